namespace SpineXR.Web.Guards;

/// <summary>
/// Per-client admission of uploads, before their bodies are read: at most <c>perClient</c> requests of one caller
/// address in flight (429 beyond) and <c>total</c> over all (503 beyond). Slow senders then hold only their own
/// share, and the prediction queue is entered only once a body has fully arrived.
/// </summary>
public sealed class ClientGate(int perClient, int total)
{
    private readonly Dictionary<string, int> _byClient = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _total;

    public int InFlight { get { lock (_lock) return _total; } }

    /// <summary>A pass for <paramref name="client"/>, or why not: (null, false) over the client's share, (null, true) over the total.</summary>
    public (IDisposable? Pass, bool Full) TryEnter(string client)
    {
        lock (_lock)
        {
            if (_total >= total) return (null, true);
            int n = _byClient.GetValueOrDefault(client);
            if (n >= perClient) return (null, false);
            _byClient[client] = n + 1;
            _total++;
        }
        return (new Pass(this, client), false);
    }

    private void Leave(string client)
    {
        lock (_lock)
        {
            _total--;
            if (_byClient[client] <= 1) _byClient.Remove(client);
            else _byClient[client]--;
        }
    }

    private sealed class Pass(ClientGate gate, string client) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Leave(client);
        }
    }
}
