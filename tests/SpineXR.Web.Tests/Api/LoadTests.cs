using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace SpineXR.Web.Tests.Api;

/// <summary>
/// Many clients at once: every request answered (200, or 503 by design, and the 503 path taken), distinct uploads
/// get distinct ids, bounded work, and the process's resident set (native memory included) bounded.
/// </summary>
[Collection(nameof(SpineXR.Web.Tests.Uploads.AloneCollection))] // measures the resident set
public sealed class LoadTests
{
    [Fact]
    public async Task Thirty_two_concurrent_distinct_uploads_are_all_answered_with_bounded_resident_memory()
    {
        var fake = new FakePredictor { Delay = TimeSpan.FromMilliseconds(400) }; // long enough that 32 arrivals overlap on a loaded machine
        // One test machine plays 32 clients, so the per-client share is opened up; the queue is what is tested here.
        var options = new SpineServerOptions { MaxConcurrency = 2, QueueLength = 8, RecentResults = 4, MaxRequestsPerClient = 64 };
        await using var ts = await TestServer.StartAsync(fake, options);

        // 2048 x 1536 16-bit PNGs: ~6 MiB each of pixels; each upload differs (its first pixel), so each is its own result.
        byte[] Png(int i) => TestImages.Png16(2048, 1536, (x, y) => x == 0 && y == 0 ? (ushort)i : (ushort)((x * 31 + y * 17) & 0x0FFF));
        var pngs = Enumerable.Range(0, 33).Select(Png).ToArray();
        async Task<(HttpStatusCode Status, string? Id, TimeSpan Latency, TimeSpan? RetryAfter)> Post(int i)
        {
            var c = new ByteArrayContent(pngs[i]);
            c.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            long t = Stopwatch.GetTimestamp();
            using var r = await ts.Client.PostAsync("/api/v1/predict", c);
            return (r.StatusCode, r.Headers.TryGetValues("X-Result-Id", out var v) ? v.Single() : null, Stopwatch.GetElapsedTime(t), r.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(HttpStatusCode.OK, (await Post(32)).Status); // warm up (JIT, Kestrel buffers, Skia)
        Settle();
        long idleRss = ResidentSet.Current();
        ResidentSet.ResetPeak();

        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => Post(i))));
        long peakRss = ResidentSet.Peak();
        var ok = responses.Where(r => r.Status == HttpStatusCode.OK).ToList();
        var busy = responses.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(32, ok.Count + busy.Count);
        Assert.True(ok.Count >= options.MaxConcurrency + options.QueueLength, $"only {ok.Count} of 32 served");
        Assert.NotEmpty(busy); // 32 at once against 2 running + 8 waiting: the 503 path must have been taken
        Assert.All(busy, r => Assert.True(r.RetryAfter >= TimeSpan.FromSeconds(1)));
        Assert.Equal(ok.Count, ok.Select(r => r.Id).Distinct().Count());
        Assert.True(fake.MaxRunning <= options.MaxConcurrency, $"{fake.MaxRunning} predictions ran at once");

        var ms = ok.Select(r => r.Latency.TotalMilliseconds).Order().ToArray();
        Console.WriteLine($"load test: 32 clients, {ok.Count} x 200, {busy.Count} x 503, p50 {ms[ms.Length / 2]:0} ms, " +
                          $"p99 {ms[(int)Math.Ceiling(ms.Length * 0.99) - 1]:0} ms, resident set {idleRss >> 20} MiB idle, peak {peakRss >> 20} MiB");
        // 32 bodies of ~6 MiB may be in memory at once (read before queue admission), plus 2 decodes and views.
        Assert.True(peakRss - idleRss < 512L << 20, $"resident set {idleRss >> 20} MiB idle -> {peakRss >> 20} MiB peak");
        Assert.Equal(options.RecentResults, ts.Server.Results.Count);
    }

    private static void Settle()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
    }
}
