using System.Collections.Concurrent;
using SpineXR.Inference;

namespace SpineXR.Jobs;

/// <summary>An input as the models get it: its decoded image, or why it could not be decoded.</summary>
internal readonly record struct DecodedInput(string File, SpineImage? Image, Exception? Error);

/// <summary>
/// Decodes a prediction job's inputs on several threads and hands them out in batches of consecutive inputs, so which
/// images share a batch, and their places in it, never depend on decoding times: batched convolutions round
/// differently with a batch's make-up, and the same inputs must give the same bytes.
/// <para>
/// Decoders take the inputs in order, each holding one of <c>(<see cref="BatchesAhead"/> + 1) * batchSize</c> slots
/// from taking an input until the models are done with its batch: at most that many inputs are being decoded, decoded
/// or in the models at once (the batch in the models and two more), however slow one decode is. Slots are taken in
/// input order, so the input the models wait for always holds one, and waiting for it cannot deadlock.
/// </para>
/// </summary>
internal sealed class OrderedDecoder(IReadOnlyList<string> files, Func<string, SpineImage> load, int batchSize)
{
    /// <summary>Whole batches decoded ahead of the one in the models, so that one slow decode seldom keeps them waiting.</summary>
    public const int BatchesAhead = 2;

    private readonly SemaphoreSlim _slots = new((BatchesAhead + 1) * batchSize);
    // The reorder buffer, by input index: at most one entry per slot.
    private readonly ConcurrentDictionary<int, TaskCompletionSource<DecodedInput>> _decoded = new();
    private int _next;

    /// <summary>
    /// Starts <paramref name="workers"/> decoders, each decode a unit of side work of <paramref name="turns"/>. The task
    /// ends when every input is decoded, or in an <see cref="OperationCanceledException"/> when <paramref name="ct"/> is
    /// cancelled.
    /// </summary>
    public Task Start(int workers, CoreTurns turns, CancellationToken ct) =>
        // Threads of their own: decoders block (on a slot, on their turn), and on a small thread pool they would run one at a time.
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ =>
            Task.Factory.StartNew(() => Decode(turns, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

    /// <summary>
    /// The batches in input order: each the next <c>batchSize</c> inputs (the last may have fewer), given once all of
    /// them are decoded. Their slots go back to the decoders when the caller asks for the next batch.
    /// </summary>
    public IEnumerable<IReadOnlyList<DecodedInput>> Batches(CancellationToken ct)
    {
        for (int first = 0; first < files.Count; first += batchSize)
        {
            var batch = new DecodedInput[Math.Min(batchSize, files.Count - first)];
            for (int k = 0; k < batch.Length; k++) batch[k] = Take(first + k, ct);
            yield return batch;
            _slots.Release(batch.Length);
        }
    }

    private DecodedInput Take(int index, CancellationToken ct)
    {
        var decoded = Result(index).Task.WaitAsync(ct).GetAwaiter().GetResult();
        _decoded.TryRemove(index, out _);
        return decoded;
    }

    private void Decode(CoreTurns turns, CancellationToken ct)
    {
        while (true)
        {
            _slots.Wait(ct);
            int index = Interlocked.Increment(ref _next) - 1;
            if (index >= files.Count)
            {
                _slots.Release(); // for the other decoders to find the end too
                return;
            }
            DecodedInput decoded;
            using (turns.SideWork(ct)) decoded = Load(files[index], ct);
            Result(index).SetResult(decoded);
        }
    }

    private DecodedInput Load(string file, CancellationToken ct)
    {
        try { return new(file, load(file), null); }
        // Any failure is the input's (a decoder that died would leave the models waiting for it), unless the run is cancelled.
        catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested)) { return new(file, null, e); }
    }

    private TaskCompletionSource<DecodedInput> Result(int index) =>
        _decoded.GetOrAdd(index, _ => new());
}
