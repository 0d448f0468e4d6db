namespace SpineXR.Web.Results;

/// <summary>
/// Least-recently-used store of recent results, bounded by count and by bytes, so a busy server's memory stays
/// flat. When it is over a bound, the caller holding the most results gives up its least recently used one, so a
/// caller uploading fast evicts its own results before anyone else's (with one caller this is plain LRU).
/// Thread-safe, under one lock; lookups are O(1), an eviction is O(entries).
/// </summary>
public sealed class ResultCache(int capacity, long maxBytes)
{
    private readonly Dictionary<string, LinkedListNode<RecentResult>> _map = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perCaller = new(StringComparer.Ordinal);
    private readonly LinkedList<RecentResult> _lru = new();
    private readonly Lock _lock = new();
    private long _bytes;

    public int Count { get { lock (_lock) return _map.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <summary>Adds or replaces the result under its id; drops the least recently used beyond the bounds (never the new one).</summary>
    public void Put(RecentResult r)
    {
        lock (_lock)
        {
            if (_map.Remove(r.Id, out var old)) Drop(old);
            _map[r.Id] = _lru.AddFirst(r);
            _bytes += r.Bytes;
            _perCaller[r.Caller] = _perCaller.GetValueOrDefault(r.Caller) + 1;
            while (_lru.Count > 1 && (_lru.Count > capacity || _bytes > maxBytes))
            {
                // The least recently used result of a caller holding the most; never the new one (some other entry
                // exists, as Count > 1, so a caller with another result exists).
                int most = _perCaller.Where(kv => kv.Key != r.Caller || kv.Value > 1).Max(kv => kv.Value);
                var victim = _lru.Last!;
                while (_perCaller[victim.Value.Caller] != most || ReferenceEquals(victim.Value, r)) victim = victim.Previous!;
                _map.Remove(victim.Value.Id);
                Drop(victim);
            }
        }
    }

    /// <summary>The result under <paramref name="id"/> if <paramref name="caller"/> uploaded it; null otherwise (unknown, dropped, or someone else's).</summary>
    public RecentResult? Get(string id, string caller)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(id, out var node) || !string.Equals(node.Value.Caller, caller, StringComparison.Ordinal)) return null;
            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value;
        }
    }

    /// <summary>
    /// The results whose source image has SOP Instance UID <paramref name="sopInstanceUid"/>, newest first: those of
    /// <paramref name="caller"/>, or of anyone when it is null (the server's own use, never a route).
    /// </summary>
    public IReadOnlyList<RecentResult> OfSource(string sopInstanceUid, string? caller)
    {
        lock (_lock)
            return _lru.Where(r => (caller is null || string.Equals(r.Caller, caller, StringComparison.Ordinal)) &&
                                   string.Equals(r.Source?.SopInstanceUid, sopInstanceUid, StringComparison.Ordinal)).ToList();
    }

    public void Clear()
    {
        lock (_lock) { _map.Clear(); _lru.Clear(); _perCaller.Clear(); _bytes = 0; }
    }

    // Unlinks a node and its accounting (the map entry is the caller's to remove).
    private void Drop(LinkedListNode<RecentResult> node)
    {
        _lru.Remove(node);
        _bytes -= node.Value.Bytes;
        string caller = node.Value.Caller;
        if (_perCaller[caller] <= 1) _perCaller.Remove(caller);
        else _perCaller[caller]--;
    }
}
