using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Dicom;

namespace SpineXR.Web.Tests.Uploads;

/// <summary>
/// Hostile files (tools/make_hostile_fixtures.py) each get the answer expected.csv gives them; then a seeded,
/// fixed-count mutation fuzz through the upload path: nothing is a 500, nothing takes long, corrupt inputs are refused,
/// and the server ends idle.
/// </summary>
[Collection(nameof(AloneCollection))] // allocation is measured process-wide: no other test may run beside
public sealed class HostileUploadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Hostile");

    public static TheoryData<string, string, int, string> Cases()
    {
        var data = new TheoryData<string, string, int, string>();
        foreach (var line in File.ReadLines(Path.Combine(Folder, "expected.csv")).Skip(1))
        {
            var f = line.Split(',', 4);
            data.Add(f[0], f[1], int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), f[3]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_hostile_file_gets_its_answer(string file, string contentType, int status, string detail)
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        var c = new ByteArrayContent(File.ReadAllBytes(Path.Combine(Folder, file)));
        c.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        using var r = await ts.Client.PostAsync("/api/v1/predict", c);
        var took = sw.Elapsed;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(status == (int)r.StatusCode, $"{file}: {(int)r.StatusCode} {body}");
        if (status != 200)
        {
            string got = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
            Assert.Contains(detail, got);
            Assert.DoesNotContain('\n', got);
        }
        Assert.True(took < TimeSpan.FromSeconds(5), $"{file} took {took.TotalSeconds:0.0} s");
        // No bomb gets its declared size allocated. The deflate bomb inflates up to the 64 MiB cap into a doubling
        // buffer (at most 4x the cap allocated in all); every other file stays far below.
        long bound = detail == "inflates beyond" ? 4L * (64 << 20) : 32L << 20;
        Assert.True(allocated < bound, $"{file}: {allocated >> 20} MiB allocated");
        Assert.Contains("\"running\":0", await ts.Client.GetStringAsync("/api/v1/health"));
    }

    private const int Seed = 18;
    private const int Count = 400;

    [Fact]
    public async Task Seeded_mutations_through_the_upload_path_are_refused_never_500_and_never_slow()
    {
        var seeds = new List<(byte[] Bytes, string Type)>
        {
            (TestImages.Dicom(48, 40), "application/dicom"),
            (DicomImageWriter.ToBytes(new GrayscaleImageHeader { Rows = 40, Columns = 48, SopInstanceUid = "1.2.3.4" },
                TestImages.SpinePixels(48, 40), new SpineXR.Dicom.Codecs.Jpeg2000Encoder()), "application/dicom"),
            (TestImages.Png8(48, 40, (x, y) => (byte)(x * 5 + y)), "image/png"),
            (TestImages.Png16(48, 40, (x, y) => (ushort)(x * 900 + y)), "image/png"),
        };
        var options = new SpineServerOptions { MaxRequestsPerClient = 8 };
        await using var ts = await TestServer.StartAsync(new FakePredictor(), options);
        var rng = new Random(Seed);
        var byStatus = new SortedDictionary<int, int>();
        int truncated = 0, truncatedRefused = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < Count; i++)
        {
            var (src, type) = seeds[rng.Next(seeds.Count)];
            var (bytes, cut) = Mutate(rng, src, type);
            var c = new ByteArrayContent(bytes);
            c.Headers.ContentType = new MediaTypeHeaderValue(type);
            var sw = Stopwatch.StartNew();
            using var r = await ts.Client.PostAsync("/api/v1/predict", c);
            if (sw.Elapsed > slowest) slowest = sw.Elapsed;
            int s = (int)r.StatusCode;
            byStatus[s] = byStatus.GetValueOrDefault(s) + 1;
            Assert.True(s is 200 or 400 or 413 or 415, $"input {i} (seed {Seed}): {s} {await r.Content.ReadAsStringAsync()}");
            if (cut)
            {
                truncated++;
                if (s == 400) truncatedRefused++;
                else Assert.Fail($"input {i} (seed {Seed}): a {type} cut before its end was answered {s}");
            }
        }
        output.WriteLine($"fuzz through POST /api/v1/predict: {Count} inputs, seed {Seed}: " +
                         string.Join(", ", byStatus.Select(kv => $"{kv.Value} x {kv.Key}")) +
                         $"; {truncatedRefused} of {truncated} truncated inputs refused; slowest {slowest.TotalMilliseconds:0} ms");
        Assert.True(truncated > 20, "the fuzz must exercise truncation");
        Assert.True(byStatus.GetValueOrDefault(400) > Count / 5, "corrupt inputs must be refused");
        Assert.True(slowest < TimeSpan.FromSeconds(5), $"one input took {slowest.TotalSeconds:0.0} s");
        Assert.Contains("\"running\":0", await ts.Client.GetStringAsync("/api/v1/health"));
    }

    /// <summary>
    /// One seeded mutation. Returns whether it cut the file before its data ended (a DICOM anywhere: Pixel Data is its
    /// last element; a PNG before the end of its image data), which every reader must refuse.
    /// </summary>
    private static (byte[] Bytes, bool Cut) Mutate(Random rng, byte[] src, string type)
    {
        var dst = (byte[])src.Clone();
        switch (rng.Next(4))
        {
            case 0: // flip a few bytes, mostly in the header
                for (int k = rng.Next(1, 6); k > 0; k--)
                {
                    int at = rng.Next(10) < 8 ? rng.Next(Math.Min(dst.Length, 400)) : rng.Next(dst.Length);
                    dst[at] ^= (byte)rng.Next(1, 256);
                }
                return (dst, false);
            case 1: // a length-like field set large
            {
                int at = rng.Next(Math.Max(1, Math.Min(dst.Length, 600) - 4));
                uint v = rng.Next(3) switch { 0 => 0xFFFFFFFF, 1 => 0x7FFFFFFF, _ => (uint)rng.Next() };
                for (int b = 0; b < 4; b++) dst[at + b] = (byte)(v >> (8 * b));
                return (dst, false);
            }
            case 2: // truncate
            {
                // A PNG cut inside its last 20 bytes (IDAT's CRC, IEND) may still hold every pixel: not counted as corrupt.
                int end = type == "image/png" ? dst.Length - 20 : dst.Length;
                return (dst[..rng.Next(end)], true);
            }
            default: // splice a chunk from elsewhere
            {
                int len = rng.Next(1, 48), from = rng.Next(dst.Length), to = rng.Next(dst.Length);
                len = Math.Min(len, Math.Min(dst.Length - from, dst.Length - to));
                Array.Copy(src, from, dst, to, len);
                return (dst, false);
            }
        }
    }
}

/// <summary>Tests that measure the whole process (allocation, resident set) run with no other test beside them.</summary>
[CollectionDefinition(nameof(AloneCollection), DisableParallelization = true)]
public sealed class AloneCollection;
