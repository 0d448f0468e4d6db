using System.Diagnostics;

namespace SpineXR.Web.Api;

/// <summary>
/// Admission control in front of the predictor: at most <c>maxConcurrency</c> requests run and at most
/// <c>queueLength</c> more wait; anything beyond is refused at once (503). Uploads enter it once their body has
/// arrived (slow senders are held by <see cref="Guards.ClientGate"/> and the body deadline instead), so a full
/// queue costs a refused client its upload, and a trickling one costs the queue nothing.
/// </summary>
public sealed class PredictionQueue : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _capacity;
    private int _admitted;
    private int _running;
    // Exponential moving average of one request's service time in ms, for Retry-After.
    private double _serviceMsEma = 500;
    private readonly Lock _emaLock = new();

    public PredictionQueue(int maxConcurrency, int queueLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLength);
        MaxConcurrency = maxConcurrency;
        QueueLength = queueLength;
        _capacity = maxConcurrency + queueLength;
        _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
    }

    public int MaxConcurrency { get; }
    public int QueueLength { get; }
    public int Running => Volatile.Read(ref _running);
    public int Waiting => Math.Max(0, Volatile.Read(ref _admitted) - Running);

    /// <summary>A ticket when there is room to run or wait, null when full. Dispose the ticket when done.</summary>
    public Ticket? TryAdmit()
    {
        while (true)
        {
            int a = Volatile.Read(ref _admitted);
            if (a >= _capacity) return null;
            if (Interlocked.CompareExchange(ref _admitted, a + 1, a) == a) return new Ticket(this);
        }
    }

    /// <summary>Seconds a refused client should wait: the time for the queue ahead of it to drain, at least 1.</summary>
    public int RetryAfterSeconds()
    {
        double ms;
        lock (_emaLock) ms = _serviceMsEma;
        double waves = (double)Volatile.Read(ref _admitted) / MaxConcurrency;
        return (int)Math.Clamp(Math.Ceiling(ms * Math.Max(1, waves) / 1000), 1, 120);
    }

    private void Record(double ms)
    {
        lock (_emaLock) _serviceMsEma = 0.8 * _serviceMsEma + 0.2 * ms;
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>One admitted request: waits for a running slot, then holds it until disposed.</summary>
    public sealed class Ticket : IDisposable
    {
        private readonly PredictionQueue _q;
        private bool _running, _disposed;
        private long _startTicks;

        internal Ticket(PredictionQueue q) => _q = q;

        /// <summary>Waits for a running slot (FIFO-ish, as SemaphoreSlim); cancelled when the client goes away.</summary>
        public async Task WaitTurnAsync(CancellationToken cancellationToken)
        {
            await _q._slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            _running = true;
            Interlocked.Increment(ref _q._running);
            _startTicks = Stopwatch.GetTimestamp();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (_running)
            {
                _q.Record(Stopwatch.GetElapsedTime(_startTicks).TotalMilliseconds);
                Interlocked.Decrement(ref _q._running);
                _q._slots.Release();
            }
            Interlocked.Decrement(ref _q._admitted);
        }
    }
}
