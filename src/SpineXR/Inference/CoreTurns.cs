namespace SpineXR.Inference;

/// <summary>
/// Takes turns on the CPU between the models and the side work of a prediction job (decoding inputs, writing
/// results): the side work waits while a batch is in the models, which start on a batch only once all of it is decoded
/// (the job hands its batches over whole). On CPU, libtorch's threads fill every core; decoding slipped in beside them
/// preempts one thread of a parallel region while the other spins at its barrier, so overlapping cost the models more
/// CPU than the decoding itself (`bench predict`, 1,100-px synthetic set: 448 core-ms per image overlapped vs 399
/// taking turns, against 370 for the models alone). Disabled, every call returns at once (overlap).
/// </summary>
internal sealed class CoreTurns(bool enabled) : IDisposable
{
    private readonly ManualResetEventSlim _sideWork = new(true);

    /// <summary>Called by a decoder or the writer before each unit of work: waits while the models run.</summary>
    public void SideWork(CancellationToken ct = default)
    {
        if (enabled) _sideWork.Wait(ct);
    }

    /// <summary>The models start on a batch: side work pauses.</summary>
    public void ModelsStart()
    {
        if (enabled) _sideWork.Reset();
    }

    /// <summary>The models finished a batch (or failed on it): side work resumes.</summary>
    public void ModelsEnd() => _sideWork.Set();

    public void Dispose() => _sideWork.Dispose();
}
