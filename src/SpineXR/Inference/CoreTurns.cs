namespace SpineXR.Inference;

/// <summary>
/// Takes turns on the CPU between the models and the side work of a prediction job (decoding inputs, writing
/// results): side work waits while a batch is in the models, and a batch waits for the side work under way (a unit
/// of it: one decode, one result written), so the two never overlap; the models start on a batch only once all of it
/// is decoded (the job hands its batches over whole). On CPU, libtorch's threads fill every core; decoding slipped in
/// beside them preempts one thread of a parallel region while the other spins at its barrier, so overlapping cost the
/// models more CPU than the decoding itself (`bench predict`, 1,100-px synthetic set: 448 core-ms per image overlapped
/// vs 399 taking turns, against 370 for the models alone). Disabled, every call returns at once (overlap).
/// </summary>
internal sealed class CoreTurns(bool enabled)
{
    private readonly object _lock = new();
    private bool _modelsRunning;
    private int _sideWork; // units under way

    /// <summary>
    /// Called by a decoder or the writer around each unit of work (`using (turns.SideWork(ct)) ...`): waits while the
    /// models run, then holds the next batch off until the unit is done.
    /// </summary>
    public SideWorkTurn SideWork(CancellationToken ct = default)
    {
        if (!enabled) return default;
        lock (_lock)
        {
            while (_modelsRunning) Monitor.Wait(_lock);
            ct.ThrowIfCancellationRequested(); // the models end on cancellation too, so the wait above does
            _sideWork++;
        }
        return new SideWorkTurn(this);
    }

    /// <summary>The models start on a batch: side work pauses, once the units under way are done.</summary>
    public void ModelsStart()
    {
        if (!enabled) return;
        lock (_lock)
        {
            _modelsRunning = true;
            while (_sideWork > 0) Monitor.Wait(_lock);
        }
    }

    /// <summary>The models finished a batch (or failed on it): side work resumes.</summary>
    public void ModelsEnd()
    {
        if (!enabled) return;
        lock (_lock)
        {
            _modelsRunning = false;
            Monitor.PulseAll(_lock);
        }
    }

    private void SideWorkDone()
    {
        lock (_lock)
        {
            if (--_sideWork == 0) Monitor.PulseAll(_lock);
        }
    }

    /// <summary>A unit of side work under way; disposing it ends the unit.</summary>
    public readonly struct SideWorkTurn(CoreTurns? turns) : IDisposable
    {
        public void Dispose() => turns?.SideWorkDone();
    }
}
