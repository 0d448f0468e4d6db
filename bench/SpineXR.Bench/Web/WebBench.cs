// `dotnet run -c Release --project bench/SpineXR.Bench -- web [--work-ms 50] [--size 2048x2560] [--requests 64] [--seconds 30]
//      [--warmup 4] [--classifier RUN_DIR --detector RUN_DIR]`
// Requests per second and p50/p95 latency of POST /api/v1/predict at concurrency 1 and 8, from an in-process
// HttpClient load generator on loopback, against the same per-image work done by calling the predictor directly
// (read DICOM, reference 8-bit conversion, Predict), as `spinexr predict` does. The predictor is the real pipeline
// when run directories are given, else a stand-in busy for a fixed time per image (isolating the web layer's cost).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using SpineXR.Data;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.Inference;
using SpineXR.Vision.Inference;
using SpineXR.Web;

namespace SpineXR.Bench.Web;

public sealed class WebBench : IBench
{
    public string Name => "web";
    public string Summary => "spinexr serve: req/s, p50/p95 at concurrency 1 and 8, overhead over direct predict";

    public int Run(string[] args)
    {
        double workMs = Arg(args, "--work-ms", 50.0);
        int requests = (int)Arg(args, "--requests", 64.0);
        int warmup = (int)Arg(args, "--warmup", 4.0);
        double seconds = Arg(args, "--seconds", 30.0);
        string size = args.SkipWhile(a => a != "--size").Skip(1).FirstOrDefault() ?? "2048x2560";
        int w = int.Parse(size.Split('x')[0], CultureInfo.InvariantCulture), h = int.Parse(size.Split('x')[1], CultureInfo.InvariantCulture);

        var images = Enumerable.Range(0, 4).Select(i => MakeDicom(w, h, i)).ToArray();
        string? cls = args.SkipWhile(a => a != "--classifier").Skip(1).FirstOrDefault();
        string? det = args.SkipWhile(a => a != "--detector").Skip(1).FirstOrDefault();
        using ISpinePredictor predictor = cls != null && det != null
            ? SpinePipeline.Load(cls.Split(','), det.Split(','))
            : new BusyPredictor(TimeSpan.FromMilliseconds(workMs));
        string what = cls != null && det != null ? $"SpinePipeline ({cls}; {det})" : $"stand-in predictor busy {workMs} ms per image";
        Console.WriteLine($"web bench: {images.Length} DICOMs {w}x{h} 12-bit uncompressed ({images[0].Length / 1048576.0:0.0} MiB), " +
                          $"{what}, {Environment.ProcessorCount} cores, {requests} requests or {seconds} s per row");

        // Where the time goes, one image, best of 10 (robust to other load on the machine).
        double Best(Action a) { double b = double.MaxValue; for (int i = 0; i < 10; i++) { long t = Stopwatch.GetTimestamp(); a(); b = Math.Min(b, Stopwatch.GetElapsedTime(t).TotalMilliseconds); } return b; }
        double tRead = Best(() => { var f = DicomFile.Read(images[0], null, "b"); var fr = PixelDecoder.DecodeGray(f); GrayscaleRenderer.ToGray8(fr, f.Dataset); });
        double tUpload = Best(() => SpineXR.Web.Uploads.DicomUpload.Decode(images[0], "b", new SpineXR.Web.Uploads.UploadLimits()));
        var decoded = SpineXR.Web.Uploads.DicomUpload.Decode(images[0], "b", new SpineXR.Web.Uploads.UploadLimits());
        double tView = Best(() => decoded.BuildView());
        Console.WriteLine(FormattableString.Invariant(
            $"best of 10, one image: read + decode + reference 8-bit {tRead:0.0} ms; the server's upload decode {tUpload:0.0} ms; its viewer copy (1024 px, built while the models run) {tView:0.0} ms"));

        var rows = new List<(string Mode, int Conc, Stats S)>();
        Direct(predictor, images, warmup, 600); // warm-up: the first model calls are several times slower
        rows.Add(("direct", 1, Direct(predictor, images, requests, seconds)));

        var options = new SpineServerOptions
        {
            Urls = "http://127.0.0.1:0", ConsoleLogging = false, QueueLength = 64, RecentResults = 8,
            MaxRequestsPerClient = 1024, // one process plays every client here
        };
        var server = SpineServer.Create(options, predictor);
        server.StartAsync().GetAwaiter().GetResult();
        try
        {
            var uri = new Uri(server.Addresses.Single());
            Http(uri, images, warmup, 1, 600); // warm-up
            foreach (int c in new[] { 1, 8 }) rows.Add(("http", c, Http(uri, images, requests, c, seconds)));
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        // Direct again: load from other processes drifts, so the baseline brackets the HTTP rows.
        rows.Add(("direct (again)", 1, Direct(predictor, images, requests, seconds)));

        Console.WriteLine();
        Console.WriteLine("| mode | concurrency | requests | 503 | req/s | min ms | p50 ms | p95 ms | mean ms | CPU ms/request |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (mode, c, s) in rows)
            Console.WriteLine(FormattableString.Invariant($"| {mode} | {c} | {s.Count} | {s.Busy} | {s.PerSecond:0.0} | {s.Min:0.0} | {s.P50:0.0} | {s.P95:0.0} | {s.Mean:0.0} | {s.CpuMs:0.0} |"));
        var d = rows[0].S.P50 <= rows[3].S.P50 ? rows[0].S : rows[3].S; // the faster baseline: the conservative comparison
        var h1 = rows[1].S;
        Console.WriteLine(FormattableString.Invariant(
            $"\noverhead at concurrency 1: p50 {h1.P50 - d.P50:+0.0;-0.0} ms ({(h1.P50 / d.P50 - 1) * 100:+0.0;-0.0}%), min {h1.Min - d.Min:+0.0;-0.0} ms ({(h1.Min / d.Min - 1) * 100:+0.0;-0.0}%), CPU {h1.CpuMs - d.CpuMs:+0.0;-0.0} ms/request (client + server, view included)"));
        return 0;
    }

    private sealed record Stats(int Count, int Busy, double PerSecond, double Min, double P50, double P95, double Mean, double CpuMs);

    private static Stats Summarise(List<double> ms, int busy, double wallS, TimeSpan cpu)
    {
        ms.Sort();
        double P(double q) => ms.Count == 0 ? double.NaN : ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        return new Stats(ms.Count, busy, ms.Count / wallS, ms.Count == 0 ? double.NaN : ms[0], P(0.5), P(0.95),
            ms.Count == 0 ? double.NaN : ms.Average(), cpu.TotalMilliseconds / Math.Max(1, ms.Count + busy));
    }

    // Process CPU time (all threads: client, server, GC): per-request cost that other load on the machine cannot inflate.
    private static TimeSpan Cpu() { using var p = Process.GetCurrentProcess(); return p.TotalProcessorTime; }

    /// <summary>What `spinexr predict` does per image, minus the file read: parse, decode, reference 8-bit, predict.</summary>
    private static Stats Direct(ISpinePredictor predictor, byte[][] images, int count, double seconds)
    {
        var lat = new List<double>();
        var cpu0 = Cpu();
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < count && wall.Elapsed.TotalSeconds < seconds; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var file = DicomFile.Read(images[i % images.Length], null, "bench.dcm");
            var frame = PixelDecoder.DecodeGray(file);
            var gray = GrayscaleRenderer.ToGray8(frame, file.Dataset);
            var p = predictor.Predict([new SpineImage("bench.dcm", "x", gray, frame.Columns, frame.Rows)]);
            if (p.Count != 1) throw new InvalidOperationException("predictor returned no result");
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return Summarise(lat, 0, wall.Elapsed.TotalSeconds, Cpu() - cpu0);
    }

    private static Stats Http(Uri baseUri, byte[][] images, int count, int concurrency, double seconds)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(2) };
        var lat = new List<double>();
        int next = -1, busy = 0;
        var cpu0 = Cpu();
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count && wall.Elapsed.TotalSeconds < seconds)
            {
                var content = new ByteArrayContent(images[i % images.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
                long t0 = Stopwatch.GetTimestamp();
                using var r = await client.PostAsync("/api/v1/predict", content);
                var body = await r.Content.ReadAsByteArrayAsync();
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if ((int)r.StatusCode == 503) { Interlocked.Increment(ref busy); continue; }
                if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"HTTP {(int)r.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
                lock (lat) lat.Add(ms);
            }
        })).ToArray();
        Task.WaitAll(workers);
        return Summarise(lat, busy, wall.Elapsed.TotalSeconds, Cpu() - cpu0);
    }

    private static byte[] MakeDicom(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var px = new ushort[w * h];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            px[y * w + x] = (ushort)Math.Clamp(600 + 2000 * Math.Exp(-Math.Pow((x - w / 2.0) / (w / 6.0), 2)) + rng.Next(64), 0, 4095);
        return DicomImageWriter.ToBytes(new GrayscaleImageHeader { Rows = h, Columns = w, UidSeed = "web-bench-" + seed, WindowCenter = 1500, WindowWidth = 3000 }, px);
    }

    private static double Arg(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Stands in for the models: a fixed CPU time per image (busy, not sleeping, so it competes for cores), fixed boxes.</summary>
    private sealed class BusyPredictor(TimeSpan work) : ISpinePredictor
    {
        public PredictionProvenance Provenance { get; } = new() { Classifiers = ["bench"], Detectors = ["bench"], AbnormalThreshold = 0.28, KeepThreshold = 0.5 };

        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken cancellationToken = default) =>
            batch.Select(img =>
            {
                var sw = Stopwatch.StartNew();
                double acc = 0;
                while (sw.Elapsed < work) acc += Math.Sqrt(acc + 1);
                return new ImagePrediction
                {
                    File = img.File, ImageId = img.ImageId, Width = img.Width, Height = img.Height,
                    AbnormalProbability = 0.7, Logit = 0.85, Verdict = "abnormal",
                    Boxes = Enumerable.Range(0, 7).Select(c => new PredictedBox(LesionTaxonomy.Classes[c], c, 0.9f - c * 0.1f,
                        [10f * c, 20f * c, 10f * c + 100, 20f * c + 80])).ToList(),
                };
            }).ToList();

        public void Dispose() { }
    }
}
