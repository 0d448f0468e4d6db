namespace SpineXR.Web.Guards;

/// <summary>
/// A global budget of decoded pixel memory in bytes, in front of every decode: a request reserves its estimate
/// (<see cref="Estimate"/>) before a pixel is decoded and holds it until its full-size buffers are gone, so however
/// many requests run, decoded images never hold more than <see cref="Capacity"/> at once. A reservation larger than
/// the whole budget is refused at once (413); others wait for room (blocking: decodes run synchronously on the
/// running slots, of which there are few).
/// </summary>
public sealed class DecodeBudget(long capacity)
{
    private readonly object _lock = new();
    private long _inUse;

    public long Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Bytes reserved now.</summary>
    public long InUse { get { lock (_lock) return _inUse; } }

    /// <summary>Highest <see cref="InUse"/> seen, for tests and metrics.</summary>
    public long Peak { get { lock (_lock) return _peak; } }
    private long _peak;

    /// <summary>
    /// Upper estimate of the memory a decode of <paramref name="pixels"/> pixels of <paramref name="samples"/> samples
    /// of <paramref name="bytesPerSample"/> bytes holds at its peak: the codec's output and OpenJPEG's 32-bit
    /// components (compressed input only), the 32-bit stored values per sample, the 8-bit model input and a 32-bit
    /// modality copy for the view.
    /// </summary>
    public static long Estimate(long pixels, int samples, int bytesPerSample, bool compressed) =>
        pixels * (samples * (bytesPerSample + 4 + (compressed ? 4 : 0)) + 1 + 4);

    /// <summary>Reserves <paramref name="bytes"/>, waiting while others hold the budget; dispose to give it back.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than <see cref="Capacity"/> asked.</exception>
    /// <exception cref="OperationCanceledException">The request's deadline passed or its client left while waiting.</exception>
    public IDisposable Reserve(long bytes, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Capacity);
        lock (_lock)
        {
            while (_inUse + bytes > Capacity)
            {
                ct.ThrowIfCancellationRequested();
                Monitor.Wait(_lock, 100); // releases wake us; the timeout notices cancellation
            }
            _inUse += bytes;
            _peak = Math.Max(_peak, _inUse);
        }
        return new Reservation(this, bytes);
    }

    private void Release(long bytes)
    {
        lock (_lock)
        {
            _inUse -= bytes;
            Monitor.PulseAll(_lock);
        }
    }

    private sealed class Reservation(DecodeBudget budget, long bytes) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) budget.Release(bytes);
        }
    }
}
