using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace SpineXR.Web.Tests.Guards;

/// <summary>Slow and lying senders hold only their own share: other clients are served, and they are cut off.</summary>
[Collection(nameof(SpineXR.Web.Tests.Uploads.AloneCollection))] // measures the resident set
public sealed class SlowUploadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Twenty_trickling_sockets_do_not_stop_a_normal_client_and_are_cut_off()
    {
        // Few running and waiting places: if a trickling upload held one, the normal client would get 503.
        var options = new SpineServerOptions
        {
            MaxConcurrency = 1, QueueLength = 1, UploadTimeoutSeconds = 4, MinUploadBytesPerSecond = 1000,
        };
        await using var ts = await TestServer.StartAsync(new FakePredictor(), options);
        long idleRss = ResidentSet.Current();
        ResidentSet.ResetPeak();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        // 20 sockets from 20 addresses (so the per-client share does not refuse them), each declaring 60 MB and
        // sending 30 bytes every 100 ms (300 B/s).
        using var stop = new CancellationTokenSource();
        var sockets = new List<Socket>();
        for (int i = 0; i < 20; i++)
            sockets.Add(await LoopbackClients.StartPostAsync($"127.0.0.{10 + i}", ts.BaseAddress, "application/dicom", 60_000_000));
        var trickles = sockets.Select(s => Task.Run(async () =>
        {
            var chunk = new byte[30];
            var t = Stopwatch.StartNew();
            try
            {
                while (!stop.IsCancellationRequested && t.Elapsed < TimeSpan.FromSeconds(20))
                {
                    await s.SendAsync(chunk);
                    await Task.Delay(100);
                }
            }
            catch (SocketException) { } // the server closed it
            return t.Elapsed;
        })).ToList();
        await Task.Delay(1000); // all 20 are now mid-body

        var sw = Stopwatch.StartNew();
        var c = new ByteArrayContent(TestImages.Dicom(320, 256));
        c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var r = await ts.Client.PostAsync("/api/v1/predict", c);
        var normal = sw.Elapsed;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.True(normal < TimeSpan.FromSeconds(3), $"the normal client waited {normal.TotalSeconds:0.0} s");

        // Every trickler is answered (408) or closed by the body deadline / minimum rate, well before it would finish.
        var answers = await Task.WhenAll(sockets.Select(s => LoopbackClients.ReadAnswerAsync(s, TimeSpan.FromSeconds(15))));
        var held = await Task.WhenAll(trickles);
        stop.Cancel();
        long peakRss = ResidentSet.Peak();
        int timedOut = answers.Count(a => a.StartsWith("HTTP/1.1 408", StringComparison.Ordinal));
        output.WriteLine($"normal client: 200 in {normal.TotalMilliseconds:0} ms beside 20 trickling sockets; tricklers: {timedOut} x 408, " +
                         $"{answers.Count(a => a.Length == 0)} closed without an answer, longest held {held.Max().TotalSeconds:0.0} s; " +
                         $"resident set {idleRss >> 20} MiB idle, peak {peakRss >> 20} MiB");
        Assert.All(held, h => Assert.True(h < TimeSpan.FromSeconds(12), $"a trickler was held {h.TotalSeconds:0.0} s"));
        Assert.All(answers, a => Assert.True(a.Length == 0 || a.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), a));
        // Buffers grow as bytes arrive: 20 declared 60 MB bodies cost what was sent, not 1.2 GB. Counted as managed
        // allocation too, since an untouched up-front array need not show in the resident set.
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.True(peakRss - idleRss < 150L << 20, $"resident set {idleRss >> 20} -> {peakRss >> 20} MiB");
        Assert.True(allocated < 200L << 20, $"{allocated >> 20} MiB allocated while 20 uploads trickled");
        foreach (var s in sockets) s.Dispose();

        var health = await ts.Client.GetStringAsync("/api/v1/health");
        Assert.Contains("\"running\":0", health);
    }

    [Fact]
    public async Task One_client_over_its_share_gets_429_while_another_is_served()
    {
        var options = new SpineServerOptions { MaxRequestsPerClient = 2, UploadTimeoutSeconds = 30 };
        await using var ts = await TestServer.StartAsync(new FakePredictor(), options);
        var slow = new List<Socket>();
        for (int i = 0; i < 2; i++)
            slow.Add(await LoopbackClients.StartPostAsync("127.0.0.5", ts.BaseAddress, "application/dicom", 1_000_000));
        await Task.Delay(300);

        using var same = LoopbackClients.From("127.0.0.5", ts.BaseAddress);
        var c = new ByteArrayContent(TestImages.Dicom(64, 64));
        c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var refused = await same.PostAsync("/api/v1/predict", c);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);

        var c2 = new ByteArrayContent(TestImages.Dicom(64, 64));
        c2.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        using var other = await ts.Client.PostAsync("/api/v1/predict", c2);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        foreach (var s in slow) s.Dispose();
    }
}
