namespace SpineXR.Inference;

/// <summary>
/// Takes turns on the CPU between the models and the side work of a prediction job (decoding inputs, writing
/// results): the side work waits while a batch is in the models, and the models start a batch only when a whole one
/// is decoded (or the inputs are done). On CPU, libtorch's threads fill every core; decoding slipped in beside them
/// preempts one thread of a parallel region while the other spins at its barrier, so overlapping cost the models more
/// CPU than the decoding itself (`bench predict`, 1,100-px synthetic set: 448 core-ms per image overlapped vs 399
/// taking turns, against 370 for the models alone). Disabled, every call returns at once (overlap).
/// </summary>
internal sealed class CoreTurns(bool enabled, int batchSize) : IDisposable
{
    private readonly ManualResetEventSlim _sideWork = new(true), _batchReady = new(false);
    private int _ready;
    private volatile bool _inputDone;

    /// <summary>Called by a decoder or the writer before each unit of work: waits while the models run.</summary>
    public void SideWork(CancellationToken ct = default)
    {
        if (enabled) _sideWork.Wait(ct);
    }

    /// <summary>An image is decoded and queued for the models.</summary>
    public void Decoded()
    {
        if (Interlocked.Increment(ref _ready) >= batchSize) _batchReady.Set();
    }

    /// <summary>No more images will be queued.</summary>
    public void InputDone()
    {
        _inputDone = true;
        _batchReady.Set();
    }

    /// <summary>Waits until a whole batch is queued or the inputs are done.</summary>
    public void AwaitBatch(CancellationToken ct)
    {
        if (!enabled) return;
        // The count is checked again after each reset, so a signal that came between the wake-up and the reset is not lost.
        while (Volatile.Read(ref _ready) < batchSize && !_inputDone)
        {
            _batchReady.Wait(ct);
            _batchReady.Reset();
        }
    }

    /// <summary>The models took <paramref name="count"/> queued images and start on them: side work pauses.</summary>
    public void ModelsStart(int count)
    {
        Interlocked.Add(ref _ready, -count);
        if (enabled) _sideWork.Reset();
    }

    /// <summary>The models finished a batch (or failed on it): side work resumes.</summary>
    public void ModelsEnd() => _sideWork.Set();

    public void Dispose()
    {
        _sideWork.Dispose();
        _batchReady.Dispose();
    }
}
