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
        Errors are RFC 7807 problem+json (400 unreadable, 401 key, 413 too large, 415 type, 503 busy).

        options:
          --classifier DIRS      classifier run directories (ensemble: mean of logits)
          --detector DIRS        detector run directories (ensemble: weighted box fusion)
          --abnormal-threshold C decision rule's threshold (default: the classifier run's Youden threshold)
          --keep-threshold S     boxes kept below the threshold need this score (default 0.5)
          --tta                  horizontal-flip test-time augmentation for the detectors
          --urls URLS            listen addresses, ';'-separated (default http://127.0.0.1:5080; port 0 = any free)
          --api-key KEY          require header X-Api-Key: KEY on /api/v1 (health and openapi.json excepted);
                                 or set SPINEXR_API_KEY, which keeps the key out of the process list
          --max-upload-mb N      largest upload in MiB (default 64)
          --max-concurrency N    predictions running at once (default: number of cores)
          --queue-length N       requests waiting beyond those running before 503 (default 16)
          --max-stow-mb N        largest STOW-RS request in MiB, all its instances together (default 512)
          --dicomweb-destination URL
                                 DICOMweb service (its root, e.g. http://pacs:8042/dicom-web) that receives, by
                                 STOW-RS, the SR and GSPS of every instance stored through /dicomweb/studies;
                                 without it results stay available from this server only

        exit codes: 0 stopped cleanly, 2 bad usage or the models could not be loaded
        """;

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
                ApiKey = args.Get("api-key") ?? NullIfEmpty(Environment.GetEnvironmentVariable("SPINEXR_API_KEY")),
                MaxUploadMB = args.GetInt("max-upload-mb", 64),
                MaxConcurrency = args.GetInt("max-concurrency", Environment.ProcessorCount),
                QueueLength = args.GetInt("queue-length", 16),
                MaxStowMB = args.GetInt("max-stow-mb", 512),
                DicomWebDestination = args.Get("dicomweb-destination") is { } url
                    ? Uri.TryCreate(url, UriKind.Absolute, out var u) ? u : throw new UsageException($"--dicomweb-destination: '{url}' is not an absolute URL")
                    : null,
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
        };
        using var predictor = LoadPredictor(classifiers, detectors, pipeline);
        return Serve(options, predictor);
    }

    /// <summary>Runs the server until Ctrl+C or SIGTERM.</summary>
    internal static int Serve(SpineServerOptions options, ISpinePredictor predictor)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            var server = SpineServer.Create(options, predictor);
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
        _ => field ?? "option",
    };
}
