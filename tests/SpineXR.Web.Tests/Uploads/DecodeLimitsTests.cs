using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Dicom;
using SpineXR.Web.Guards;

namespace SpineXR.Web.Tests.Uploads;

/// <summary>
/// What a decode may cost in serve: JPEG 2000 at the level the models need (predict's loader), the pixel limit and
/// the decode budget before any pixel is decoded, and a deflated dataset capped at the upload limit.
/// </summary>
[Collection(nameof(SpineXR.Web.Tests.Uploads.AloneCollection))] // measures the resident set
public sealed class DecodeLimitsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static ByteArrayContent Content(byte[] bytes, string type)
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = new MediaTypeHeaderValue(type);
        return c;
    }

    private static async Task<JsonElement> Problem(HttpResponseMessage r) => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Jpeg2000_is_decoded_at_the_models_level_and_boxes_stay_in_original_pixels()
    {
        var px = new ushort[512 * 384];
        for (int y = 0; y < 384; y++)
            for (int x = 0; x < 512; x++) px[y * 512 + x] = (ushort)(x * 4 + y * 2);
        var bytes = DicomImageWriter.ToBytes(new GrayscaleImageHeader { Rows = 384, Columns = 512, SopInstanceUid = "1.2.3.18" }, px,
            new SpineXR.Dicom.Codecs.Jpeg2000Encoder());
        // Models that use an eighth of the size, and a 64-px view: predict's rule gives 3 levels (2^3 <= min(8 / 0.85, 512 / 64)).
        var fake = new FakePredictor { Shrink = 8 };
        await using var ts = await TestServer.StartAsync(fake, new SpineServerOptions { ViewMaxSide = 64 });
        using var r = await ts.Client.PostAsync("/api/v1/predict", Content(bytes, "application/dicom"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal((3, 64, 48), (fake.LastImage!.Reduction, fake.LastImage.Width, fake.LastImage.Height));
        Assert.Equal((512, 384), (fake.LastImage.OriginalWidth, fake.LastImage.OriginalHeight));
        var pred = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(512, pred.GetProperty("width").GetInt32());
        Assert.Equal(0.4 * 512, pred.GetProperty("boxes")[0].GetProperty("box")[2].GetDouble(), 3);

        string id = r.Headers.GetValues("X-Result-Id").Single();
        var meta = JsonDocument.Parse(await ts.Client.GetStringAsync($"/api/v1/results/{id}")).RootElement;
        Assert.Equal((512, 64, 48), (meta.GetProperty("width").GetInt32(), meta.GetProperty("view_width").GetInt32(), meta.GetProperty("view_height").GetInt32()));

        // The same file with full-size models is decoded at full size: the allowance is what changes the level.
        var full = new FakePredictor();
        await using var ts2 = await TestServer.StartAsync(full, new SpineServerOptions { ViewMaxSide = 64 });
        Assert.Equal(HttpStatusCode.OK, (await ts2.Client.PostAsync("/api/v1/predict", Content(bytes, "application/dicom"))).StatusCode);
        Assert.Equal((0, 512), (full.LastImage!.Reduction, full.LastImage.Width));
    }

    [Fact]
    public async Task A_decode_that_never_ends_is_stopped_and_the_server_comes_back_to_idle()
    {
        // As `spinexr serve` sets it up (every external codec in a helper, under a deadline), with a helper that never
        // answers standing in for OpenJPEG caught in an endless loop.
        var bytes = DicomImageWriter.ToBytes(new GrayscaleImageHeader { Rows = 40, Columns = 48, SopInstanceUid = "1.2.3.19" },
            TestImages.SpinePixels(48, 40), new SpineXR.Dicom.Codecs.Jpeg2000Encoder());
        using var stuck = new SpineXR.Dicom.Codecs.DecodeHost(new System.Diagnostics.ProcessStartInfo("sleep") { ArgumentList = { "60" } });
        var decode = new SpineXR.Dicom.Codecs.DecodeOptions { Host = stuck, IsolateAllExternalCodecs = true, Timeout = TimeSpan.FromSeconds(1) };
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { Decode = decode });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var r = await ts.Client.PostAsync("/api/v1/predict", Content(bytes, "application/dicom"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("took more than 1 s; stopped", (await Problem(r)).GetProperty("detail").GetString());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"answered after {sw.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("\"running\":0", await ts.Client.GetStringAsync("/api/v1/health"));
        Assert.Equal(0, ts.Server.Budget.InUse);
    }

    [Fact]
    public async Task A_png_declaring_16384_squared_is_413_naming_the_limit_before_decoding()
    {
        var png = TestImages.Png8(2, 2, (x, y) => 1);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 16384);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 16384);
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        using var r = await ts.Client.PostAsync("/api/v1/predict", Content(png, "image/png"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        string detail = (await Problem(r)).GetProperty("detail").GetString()!;
        Assert.Contains("16384x16384", detail);
        Assert.Contains("50 megapixels (--max-megapixels)", detail);
    }

    [Fact]
    public async Task An_image_that_alone_exceeds_the_decode_budget_is_413_naming_it()
    {
        var png = TestImages.Png8(2100, 2000, (x, y) => (byte)x);
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { DecodeBudgetMB = 16 });
        using var r = await ts.Client.PostAsync("/api/v1/predict", Content(png, "image/png"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Contains("--decode-budget-mb", (await Problem(r)).GetProperty("detail").GetString());
        Assert.Equal(0, ts.Server.Budget.InUse);
    }

    [Fact]
    public async Task Four_concurrent_large_images_stay_within_the_budget_and_the_resident_set_follows()
    {
        // 4000 x 4000 8-bit PNGs (tiny when compressed): 80 MB of decode each; a 100 MiB budget lets one decode at a time.
        var pngs = Enumerable.Range(0, 4).Select(i => TestImages.Png8(4000, 4000, (x, y) => (byte)((x + y + i) & 0xF0))).ToArray();
        var options = new SpineServerOptions { DecodeBudgetMB = 100, MaxConcurrency = 4, RecentResults = 1, ViewMaxSide = 256 };
        await using var ts = await TestServer.StartAsync(new FakePredictor(), options);
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.PostAsync("/api/v1/predict", Content(TestImages.Png8(64, 64, (x, y) => 9), "image/png"))).StatusCode);
        GC.Collect();
        long idle = ResidentSet.Current();
        ResidentSet.ResetPeak();
        var rs = await Task.WhenAll(pngs.Select(p => Task.Run(() => ts.Client.PostAsync("/api/v1/predict", Content(p, "image/png")))));
        long peak = ResidentSet.Peak();
        Assert.All(rs, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        output.WriteLine($"4 concurrent 4000x4000 decodes, budget 100 MiB: budget peak {ts.Server.Budget.Peak >> 20} MiB, resident set {idle >> 20} MiB idle, peak {peak >> 20} MiB");
        Assert.True(ts.Server.Budget.Peak <= ts.Server.Budget.Capacity);
        Assert.True(ts.Server.Budget.Peak >= 80_000_000, "each decode reserved its estimate");
        Assert.Equal(0, ts.Server.Budget.InUse);
        // The budget, plus what the estimate leaves out (Skia's scratch, GC headroom): never four decodes at once (320 MB).
        Assert.True(peak - idle < 250L << 20, $"resident set {idle >> 20} -> {peak >> 20} MiB");
    }

    [Fact]
    public void The_budget_never_lends_more_than_it_has()
    {
        var budget = new DecodeBudget(100);
        Assert.Throws<ArgumentOutOfRangeException>(() => budget.Reserve(101, CancellationToken.None));
        // Two reservations of 40 fit in 100 at once; a third waits (here until its deadline) while both are held.
        using (budget.Reserve(40, CancellationToken.None))
        using (budget.Reserve(40, CancellationToken.None))
        {
            Assert.Equal(80, budget.InUse);
            using var third = new CancellationTokenSource(200);
            Assert.ThrowsAny<OperationCanceledException>(() => budget.Reserve(40, third.Token));
        }
        Assert.Equal(0, budget.InUse);
        // Under contention never more than two inside. (How many get in at once depends on the thread pool: on a loaded
        // 2-core machine the 16 iterations can run one after another, so the test asks for at most two, not exactly two;
        // that two fit at once is the block above.)
        int inside = 0, most = 0;
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            using var r = budget.Reserve(40, CancellationToken.None);
            int now = Interlocked.Increment(ref inside);
            int seen;
            while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen) { }
            Thread.Sleep(20);
            Interlocked.Decrement(ref inside);
        });
        Assert.InRange(most, 1, 2);
        Assert.Equal(80, budget.Peak);
        Assert.Equal(0, budget.InUse);
        using var hold = budget.Reserve(100, CancellationToken.None);
        using var cts = new CancellationTokenSource(200);
        Assert.ThrowsAny<OperationCanceledException>(() => budget.Reserve(1, cts.Token));
    }

    [Fact]
    public async Task A_deflated_dataset_inflating_past_the_upload_limit_is_refused()
    {
        // Deflated Explicit VR Little Endian: the meta group, then the raw-deflated dataset, here 20 MiB of zeros in an
        // OB element, from a ~20 KB upload, against a 16 MiB upload limit.
        var ms = new MemoryStream();
        ms.Write(new byte[128]);
        ms.Write("DICM"u8);
        var meta = new MemoryStream();
        static void El(Stream s, ushort g, ushort e, string vr, byte[] v)
        {
            Span<byte> h = stackalloc byte[12];
            BinaryPrimitives.WriteUInt16LittleEndian(h, g);
            BinaryPrimitives.WriteUInt16LittleEndian(h[2..], e);
            h[4] = (byte)vr[0];
            h[5] = (byte)vr[1];
            if (vr is "OB" or "UN")
            {
                BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)v.Length);
                s.Write(h);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)v.Length);
                s.Write(h[..8]);
            }
            s.Write(v);
        }
        El(meta, 2, 0x0001, "OB", [0, 1]);
        El(meta, 2, 0x0010, "UI", "1.2.840.10008.1.2.1.99\0"u8.ToArray());
        El(ms, 2, 0x0000, "UL", BitConverter.GetBytes((uint)meta.Length));
        meta.WriteTo(ms);
        var body = new MemoryStream();
        using (var z = new DeflateStream(body, CompressionLevel.Fastest, leaveOpen: true))
        {
            El(z, 0x0009, 0x1000, "OB", new byte[20 << 20]);
        }
        body.WriteTo(ms);
        var bytes = ms.ToArray();
        Assert.True(bytes.Length < 1 << 20);

        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { MaxUploadMB = 16 });
        using var r = await ts.Client.PostAsync("/api/v1/predict", Content(bytes, "application/dicom"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains($"inflates beyond {16 << 20} bytes", (await Problem(r)).GetProperty("detail").GetString());
    }
}
