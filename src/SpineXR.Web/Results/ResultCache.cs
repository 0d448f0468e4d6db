namespace SpineXR.Web.Results;

/// <summary>
/// Least-recently-used store of recent results, bounded by count and by bytes, so a busy server's memory stays
/// flat. Thread-safe; every operation is O(1) under one lock.
/// </summary>
public sealed class ResultCache(int capacity, long maxBytes)
{
    private readonly Dictionary<string, LinkedListNode<RecentResult>> _map = new(StringComparer.Ordinal);
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
            if (_map.Remove(r.Id, out var old)) { _lru.Remove(old); _bytes -= old.Value.Bytes; }
            _map[r.Id] = _lru.AddFirst(r);
            _bytes += r.Bytes;
            while (_lru.Count > 1 && (_lru.Count > capacity || _bytes > maxBytes))
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _map.Remove(last.Value.Id);
                _bytes -= last.Value.Bytes;
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

    public void Clear()
    {
        lock (_lock) { _map.Clear(); _lru.Clear(); _bytes = 0; }
    }
}
