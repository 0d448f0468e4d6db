using System.Net;
using System.Net.Http.Headers;

namespace SpineXR.Web.Tests.Api;

/// <summary>Many clients at once: every request answered (200, or 503 by design), bounded work, memory back to idle.</summary>
public sealed class LoadTests
{
    [Fact]
    public async Task Thirty_two_concurrent_requests_are_all_answered_and_memory_returns_to_idle()
    {
        var fake = new FakePredictor { Delay = TimeSpan.FromMilliseconds(30) };
        var options = new SpineServerOptions { MaxConcurrency = 2, QueueLength = 8, RecentResults = 2 };
        await using var ts = await TestServer.StartAsync(fake, options);

        // 2048 x 1536 16-bit PNGs: ~6 MiB each of pixels, so 32 leaked uploads would be ~400 MiB of managed memory.
        var png = TestImages.Png16(2048, 1536, (x, y) => (ushort)((x * 31 + y * 17) & 0x0FFF));
        async Task<HttpResponseMessage> Post()
        {
            var c = new ByteArrayContent(png);
            c.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            return await ts.Client.PostAsync("/api/v1/predict", c);
        }

        // Warm up (JIT, Kestrel buffers, Skia) so "idle" is measured with the server fully loaded once.
        Assert.Equal(HttpStatusCode.OK, (await Post()).StatusCode);
        long idle = Settle();

        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(Post)));
        int ok = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        int busy = responses.Count(r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Equal(32, ok + busy);
        Assert.True(ok >= options.MaxConcurrency + options.QueueLength, $"only {ok} of 32 served");
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable),
            r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)));
        Assert.True(fake.MaxRunning <= options.MaxConcurrency, $"{fake.MaxRunning} predictions ran at once");
        foreach (var r in responses) r.Dispose();

        long after = Settle();
        Console.WriteLine($"load test: {ok} x 200, {busy} x 503, managed memory {idle / 1048576.0:0.0} MiB idle -> {after / 1048576.0:0.0} MiB after");
        Assert.True(after - idle < 48L * 1024 * 1024,
            $"managed memory {idle / 1048576} MiB idle -> {after / 1048576} MiB after 32 requests");
        Assert.Equal(1, ts.Server.Results.Count); // the same bytes every time: one id, one kept result
    }

    private static long Settle()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
