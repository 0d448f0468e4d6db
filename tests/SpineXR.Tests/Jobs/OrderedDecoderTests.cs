using SpineXR.Jobs;
using SpineXR.Inference;

namespace SpineXR.Tests.Jobs;

public sealed class OrderedDecoderTests
{
    private static readonly List<string> Files = Enumerable.Range(0, 10).Select(i => $"f{i}").ToList();

    private static SpineImage Image(string f) => new(f, f, new byte[16], 4, 4);

    private static readonly CoreTurns NoTurns = new(enabled: false);

    private static List<string[]> Names(IEnumerable<IReadOnlyList<DecodedInput>> batches) =>
        batches.Select(b => b.Select(d => d.File).ToArray()).ToList();

    [Theory]
    [InlineData(1, 8)] // more decoders than slots
    [InlineData(3, 1)]
    [InlineData(4, 3)] // a short last batch
    public async Task BatchesAreConsecutiveInputsWhateverTheDecodingTimes(int batchSize, int workers)
    {
        var rng = new Random(batchSize * 10 + workers);
        var delays = Files.ToDictionary(f => f, _ => rng.Next(0, 6));
        var decoder = new OrderedDecoder(Files, f => { Thread.Sleep(delays[f]); return Image(f); }, batchSize);
        var decoding = decoder.Start(workers, NoTurns, CancellationToken.None);
        Assert.Equal(Files.Chunk(batchSize).ToList(), Names(decoder.Batches(CancellationToken.None)));
        await decoding.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void AFailedDecodeKeepsItsPlaceWithItsError()
    {
        var decoder = new OrderedDecoder(Files, f => f == "f1" ? throw new InvalidDataException("truncated") : Image(f), 3);
        decoder.Start(2, NoTurns, CancellationToken.None);
        var first = decoder.Batches(CancellationToken.None).ToList()[0];
        Assert.Equal(["f0", "f1", "f2"], first.Select(d => d.File));
        Assert.Null(first[1].Image);
        Assert.Equal("truncated", first[1].Error!.Message);
        Assert.All(new[] { first[0], first[2] }, d => Assert.NotNull(d.Image));
    }

    [Fact]
    public async Task OneSlowDecodeHoldsBackTheOthersByTheBoundThenTheBatchesGoOnInOrder()
    {
        const int batchSize = 2, bound = (OrderedDecoder.BatchesAhead + 1) * batchSize;
        using var slow = new ManualResetEventSlim();
        int started = 0;
        var decoder = new OrderedDecoder(Files, f =>
        {
            Interlocked.Increment(ref started);
            if (f == "f0") slow.Wait();
            return Image(f);
        }, batchSize);
        var decoding = decoder.Start(3, NoTurns, CancellationToken.None);
        var batches = Task.Run(() => Names(decoder.Batches(CancellationToken.None)));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref started) == bound, 5000));
        Thread.Sleep(50);
        Assert.Equal(bound, Volatile.Read(ref started)); // f0 and the five after it; nothing more while the models wait for f0
        Assert.False(batches.IsCompleted);
        slow.Set();
        Assert.Equal(Files.Chunk(batchSize).ToList(), await batches.WaitAsync(TimeSpan.FromSeconds(5)));
        await decoding.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CancellingEndsTheWaitAndTheDecoders()
    {
        using var cts = new CancellationTokenSource();
        using var never = new ManualResetEventSlim();
        var decoder = new OrderedDecoder(Files, f => { if (f == "f0") never.Wait(cts.Token); return Image(f); }, 2);
        var decoding = decoder.Start(2, NoTurns, cts.Token);
        cts.CancelAfter(50);
        Assert.ThrowsAny<OperationCanceledException>(() => decoder.Batches(cts.Token).ToList());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => decoding.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
