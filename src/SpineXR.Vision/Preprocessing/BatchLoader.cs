// Background input pipeline: a producer task turns planned batches into ready float buffers using a
// few worker threads (decode + resize + augment + normalise), keeping up to `prefetch` batches ahead
// so the model never waits on I/O. Unreadable images are dropped from their batch and reported once.
using System.Collections.Concurrent;

using SpineXR.Imaging;

namespace SpineXR.Vision.Preprocessing;

/// <summary>One item of a planned batch: which sample and how to augment it.</summary>
public readonly record struct BatchItem(int Index, Augmentation Augmentation);

/// <summary>A prepared batch: <see cref="Count"/> images of (3, S, S) floats in <see cref="Pixels"/>, in plan order minus failures.</summary>
public sealed record Batch(int Key, float[] Pixels, int[] Indices, int Count);

/// <summary>Runs the image pipeline on worker threads ahead of the consumer.</summary>
public sealed class BatchLoader : IDisposable
{
    private readonly BlockingCollection<Batch> _ready;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _producer;

    /// <summary>Images that could not be read: index -> reason (first failure).</summary>
    public ConcurrentDictionary<int, string> Failed { get; }

    /// <param name="plans">Batches to prepare, in order: a key (step or chunk number) and its items.</param>
    /// <param name="load">Decodes sample <c>i</c>; may throw for an unreadable image.</param>
    /// <param name="failed">Shared set of known-bad samples (skipped without retrying); reasons are recorded here.</param>
    /// <param name="onFailure">Called once per newly failed sample (index, reason), e.g. to print a line.</param>
    public BatchLoader(IEnumerable<(int Key, BatchItem[] Items)> plans, Func<int, GrayImage> load, ClassifierTransform transform,
        int workers, int prefetch, ConcurrentDictionary<int, string>? failed = null, Action<int, string>? onFailure = null)
    {
        _ready = new BlockingCollection<Batch>(Math.Max(1, prefetch));
        Failed = failed ?? new ConcurrentDictionary<int, string>();
        var token = _cts.Token;
        int degree = Math.Max(1, workers);
        _producer = Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var (key, items) in plans)
                {
                    token.ThrowIfCancellationRequested();
                    int len = transform.Length;
                    var buffer = new float[items.Length * len];
                    var ok = new bool[items.Length];
                    Parallel.For(0, items.Length, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = token }, j =>
                    {
                        int idx = items[j].Index;
                        if (Failed.ContainsKey(idx)) return;
                        try
                        {
                            var img = load(idx);
                            transform.Apply(img, items[j].Augmentation, buffer.AsSpan(j * len, len));
                            ok[j] = true;
                        }
                        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                        {
                            if (Failed.TryAdd(idx, e.Message)) onFailure?.Invoke(idx, e.Message);
                        }
                    });
                    // Compact the good images to the front, keeping plan order.
                    int n = 0;
                    var indices = new List<int>(items.Length);
                    for (int j = 0; j < items.Length; j++)
                    {
                        if (!ok[j]) continue;
                        if (n != j) buffer.AsSpan(j * len, len).CopyTo(buffer.AsSpan(n * len, len));
                        indices.Add(items[j].Index);
                        n++;
                    }
                    _ready.Add(new Batch(key, buffer, [.. indices], n), token);
                }
            }
            catch (OperationCanceledException) { }
            finally { _ready.CompleteAdding(); }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The next batch in plan order, or null when all are done. Rethrows a failure of the pipeline itself.</summary>
    public Batch? Next()
    {
        if (_ready.TryTake(out var b, Timeout.Infinite)) return b;
        if (_producer.IsFaulted) throw _producer.Exception!.GetBaseException();
        return null;
    }

    public void Dispose()
    {
        _cts.Cancel();
        try { _producer.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
        _ready.Dispose();
        _cts.Dispose();
    }
}
