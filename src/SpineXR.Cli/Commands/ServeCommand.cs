using SpineXR.Dicom.Codecs;
using SpineXR.Inference;
using SpineXR.Vision.Inference;
using SpineXR.Web;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr serve`: the HTTP API and viewer over the pipeline, models loaded once.</summary>
public sealed class ServeCommand : ICliCommand
{
    public string Name => "serve";
    public string Summary => "HTTP API and viewer page over the pipeline (loopback by default)";
    public ISet<string> Flags => new HashSet<string> { "tta" };
    public string Help => """
        usage: spinexr serve --classifier RUN_DIR[,RUN_DIR...] --detector RUN_DIR[,RUN_DIR...] [options]

        Loads the models once and serves, until Ctrl+C:
          /                          viewer page (open or drop a DICOM/PNG, window/level, boxes, filters)
          POST /api/v1/predict       body application/dicom, image/png, or a multipart/form-data file
                                     -> the same per-image JSON as `spinexr predict`
                                     (Accept: application/dicom or ?result=sr|gsps: the DICOM SR or GSPS instead)
          GET  /api/v1/overlay/{id}.png, /api/v1/image/{id}.png, /api/v1/results/{id}[/raw|/sr|/gsps]
          POST /dicomweb/studies     STOW-RS (multipart/related; type="application/dicom"): every instance predicted,
                                     answer in DICOM JSON (Referenced / Failed SOP Sequence)
          GET  /api/v1/health, /api/v1/models, /api/v1/openapi.json
          GET  /metrics              Prometheus metrics (needs the key when one is set)
        Errors are RFC 7807 problem+json (400 unreadable, 401 key, 403 cross-site, 408 slow upload, 413 too large,
        415 type, 429 too many from one client, 503 busy or past the request deadline). Result ids are random and
        readable only by the caller (address and key) that uploaded. Details: docs/serve-hardening.md.

        options:
          --classifier DIRS      classifier run directories (ensemble: mean of logits)
          --detector DIRS        detector run directories (ensemble: weighted box fusion)
          --abnormal-threshold C decision rule's threshold (default: the classifier run's Youden threshold)
          --keep-threshold S     boxes kept below the threshold need this score (default 0.5)
          --tta                  horizontal-flip test-time augmentation for the detectors
          --backend B            libtorch (default) or onnx: each run's model.onnx in ONNX Runtime (docs/onnx.md)
          --device D             cpu (default) or cuda (onnx backend with ONNX Runtime's GPU build only)
          --urls URLS            listen addresses, ';'-separated (default http://127.0.0.1:5080; port 0 = any free);
                                 https:// needs --cert and --cert-key; an address other than loopback needs a key
          --cert PEM             server certificate (chain) for https:// addresses
          --cert-key PEM         its private key (unencrypted PKCS#8 or PKCS#1)
          --api-key-file PATH    require header X-Api-Key with the key in PATH (first line) on /api/v1 and /metrics
                                 (health and openapi.json excepted); or set SPINEXR_API_KEY; --api-key KEY works
                                 too but shows the key in the process list
          --max-upload-mb N      largest upload in MiB (default 64); also caps a deflated dataset's inflated size
          --max-megapixels N     largest image decoded, by its declared size (default 50); larger gets 413
          --decode-budget-mb N   decoded pixel memory shared by all requests (default 1024); a decode waits for room
          --max-concurrency N    predictions running at once (default: number of cores)
          --max-stow-mb N        largest STOW-RS request in MiB, all its instances together (default 512)
          --dicomweb-destination URL
                                 DICOMweb service (its root, e.g. http://pacs:8042/dicom-web) that receives, by
                                 STOW-RS, the SR and GSPS of every instance stored through /dicomweb/studies;
                                 without it results stay available from this server only
          --queue-length N       uploads waiting beyond those running before 503 (default 16)
          --max-per-client N     requests in flight per client address before 429 (default 4)
          --upload-timeout-s N   seconds an upload body may take (default 120; 408 after)
          --request-timeout-s N  seconds a prediction request may take in all (default 300; 503 after)
          --allowed-hosts HOSTS  Host header values accepted, ';'-separated (default: loopback names on loopback)
          --access-log PATH      JSON-lines access log to PATH ('-' = standard output); no PHI is logged
          --decode-timeout-s N   seconds one JPEG 2000 / JPEG-LS decode may take in its helper process (default 30)

        exit codes: 0 stopped cleanly, 2 bad usage or the models could not be loaded
        """;

    /// <summary>The environment variable that carries the key (and that the allocator re-exec moves --api-key into).</summary>
    public const string KeyVariable = "SPINEXR_API_KEY";

    public int Run(CliArgs args)
    {
        var classifiers = RunDirs(args, "classifier");
        var detectors = RunDirs(args, "detector");
        SpineServerOptions options;
        try
        {
            options = new SpineServerOptions
            {
                Urls = args.Get("urls") ?? new SpineServerOptions().Urls,
                ApiKey = ResolveKey(args.Get("api-key"), args.Get("api-key-file")),
                MaxUploadMB = args.GetInt("max-upload-mb", 64),
                MaxMegapixels = args.GetInt("max-megapixels", 50),
                DecodeBudgetMB = args.GetInt("decode-budget-mb", 1024),
                MaxConcurrency = args.GetInt("max-concurrency", Environment.ProcessorCount),
                QueueLength = args.GetInt("queue-length", 16),
                MaxStowMB = args.GetInt("max-stow-mb", 512),
                DicomWebDestination = args.Get("dicomweb-destination") is { } url
                    ? Uri.TryCreate(url, UriKind.Absolute, out var u) ? u : throw new UsageException($"--dicomweb-destination: '{url}' is not an absolute URL")
                    : null,
                MaxRequestsPerClient = args.GetInt("max-per-client", 4),
                UploadTimeoutSeconds = args.GetInt("upload-timeout-s", 120),
                RequestTimeoutSeconds = args.GetInt("request-timeout-s", 300),
                AllowedHosts = args.Get("allowed-hosts"),
                CertificatePath = args.Get("cert"),
                CertificateKeyPath = args.Get("cert-key"),
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{Flag(e.ParamName)}: {e.Message.Split(" (Parameter")[0]}");
        }

        var pipeline = new SpinePipelineOptions
        {
            AbnormalThreshold = args.Get("abnormal-threshold") is null ? null : args.GetDouble("abnormal-threshold", 0),
            KeepThreshold = args.GetDouble("keep-threshold", 0.5),
            Tta = args.Flag("tta") ? true : null,
            Engine = PredictCommand.Engine(args),
        };
        string? accessLog = args.Get("access-log");
        int decodeTimeout = args.GetInt("decode-timeout-s", 30);
        if (decodeTimeout is < 1 or > 3600) throw new UsageException($"--decode-timeout-s: {decodeTimeout} is outside 1..3600");
        using var predictor = LoadPredictor(classifiers, detectors, pipeline);
        using var log = accessLog is null or "-" ? null : new StreamWriter(accessLog, append: true);
        // Uploads are untrusted: every external-library decode in a helper process under --decode-timeout-s.
        options = options with { Decode = args.Services.Decode with { IsolateAllExternalCodecs = true, Timeout = TimeSpan.FromSeconds(decodeTimeout) } };
        return Serve(options, predictor, accessLog == "-" ? Console.Out : log);
    }

    /// <summary>
    /// The key from --api-key, --api-key-file (its first line) or SPINEXR_API_KEY, in that order; null for none. The
    /// variable is then removed from this process's environment, so helper processes (the decode host) never inherit it.
    /// </summary>
    internal static string? ResolveKey(string? given, string? file)
    {
        string? fromEnvironment = NullIfEmpty(Environment.GetEnvironmentVariable(KeyVariable));
        Environment.SetEnvironmentVariable(KeyVariable, null);
        if (given is not null && file is not null) throw new UsageException("--api-key and --api-key-file: give one");
        if (file is not null)
        {
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--api-key-file: cannot read '{file}' ({e.Message})");
            }
            string key = text.Split('\n')[0].Trim();
            return key.Length > 0 ? key : throw new UsageException($"--api-key-file: '{file}' has no key on its first line");
        }
        return given ?? fromEnvironment;
    }

    /// <summary>Runs the server until Ctrl+C or SIGTERM.</summary>
    internal static int Serve(SpineServerOptions options, ISpinePredictor predictor, TextWriter? accessLog = null)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            var server = SpineServer.Create(options, predictor, accessLog: accessLog);
            server.StartAsync().GetAwaiter().GetResult();
            foreach (var a in server.Addresses)
                Console.WriteLine($"spinexr serve: listening on {a} (viewer at /, API at /api/v1, Ctrl+C to stop)");
            Console.WriteLine($"spinexr serve: max upload {options.MaxUploadMB} MiB, {options.MaxConcurrency} at once, queue {options.QueueLength}" +
                              (options.ApiKey != null ? ", API key required" : "") +
                              (options.DicomWebDestination != null ? $", results to {options.DicomWebDestination}" : ""));
            server.RunUntilAsync(stop.Token).GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Console.WriteLine("spinexr serve: stopped");
            return ExitCodes.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The classifier and detector ensembles behind one predictor, loaded once (the same pipeline as `predict`).</summary>
    internal static ISpinePredictor LoadPredictor(IReadOnlyList<string> classifiers, IReadOnlyList<string> detectors, SpinePipelineOptions options) =>
        SpinePipeline.Load(classifiers, detectors, options);

    private static List<string> RunDirs(CliArgs args, string name)
    {
        var dirs = args.GetAll(name).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (dirs.Count == 0) throw new UsageException($"--{name} is required");
        foreach (var d in dirs)
            if (!Directory.Exists(d)) throw new UsageException($"--{name}: no run directory '{d}'");
        return dirs;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string Flag(string? field) => field switch
    {
        nameof(SpineServerOptions.Urls) => "--urls",
        nameof(SpineServerOptions.ApiKey) => "--api-key",
        nameof(SpineServerOptions.MaxUploadMB) => "--max-upload-mb",
        nameof(SpineServerOptions.MaxConcurrency) => "--max-concurrency",
        nameof(SpineServerOptions.QueueLength) => "--queue-length",
        nameof(SpineServerOptions.MaxStowMB) => "--max-stow-mb",
        nameof(SpineServerOptions.DicomWebDestination) => "--dicomweb-destination",
        nameof(SpineServerOptions.MaxMegapixels) => "--max-megapixels",
        nameof(SpineServerOptions.CertificatePath) => "--cert",
        nameof(SpineServerOptions.DecodeBudgetMB) => "--decode-budget-mb",
        nameof(SpineServerOptions.MaxRequestsPerClient) => "--max-per-client",
        nameof(SpineServerOptions.UploadTimeoutSeconds) => "--upload-timeout-s",
        nameof(SpineServerOptions.RequestTimeoutSeconds) => "--request-timeout-s",
        _ => field ?? "option",
    };
}
