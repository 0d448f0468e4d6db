using System.Globalization;
using SpineXR.Vision;
using SpineXR.Jobs;
using SpineXR.Dicom;
using SpineXR.Dicom.Web;
using SpineXR.Inference;
using SpineXR.Vision.Inference;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr predict`: the whole pipeline over DICOM/PNG inputs into predictions, overlays and a report.</summary>
public sealed class PredictCommand : ICliCommand
{
    public string Name => "predict";
    public string Summary => "classify and detect lesions in DICOM/PNG images (predictions.json, overlays, report.html)";
    public ISet<string> Flags => new HashSet<string> { "force", "tta", "no-overlays", "secondary-capture", "dicom-sr", "gsps", "full-decode", "quiet" };

    public string Help => """
        usage: spinexr predict merge SHARD_DIR... --out DIR
               spinexr predict INPUT... --classifier RUN_DIR[,RUN_DIR...] --detector RUN_DIR[,RUN_DIR...] --out DIR
                               [--abnormal-threshold C] [--keep-threshold 0.5] [--tta] [--batch 8] [--workers N]
                               [--shard i/n|auto] [--force] [--no-overlays] [--overlay-size PX] [--secondary-capture]
                               [--dicom-sr] [--gsps] [--full-decode] [--quiet] [--backend libtorch|onnx] [--device cpu|cuda]
                               [--from-dicomweb URL --study UID] [--to-dicomweb URL]

        INPUT: DICOM or PNG files, folders (searched recursively) or globs ('data/**/*.dicom').
        Classifiers are ensembled by the mean of their logits, detectors by weighted boxes fusion (--tta adds
        horizontal-flip test-time augmentation). Decision rule: an image with P(abnormal) < C keeps only boxes
        scoring >= keep; C defaults to the first classifier run's validation threshold (Youden's J).
        The image id is the file stem (VinDr layout: <image_id>.dicom).
        --backend onnx runs each run's model.onnx (from `spinexr model export RUN --format onnx --out RUN/model.onnx`,
        checked against the run's weights) in ONNX Runtime instead of libtorch; --device cuda runs it on ONNX Runtime's
        CUDA provider, where the GPU build is installed (docs/onnx.md). libtorch runs on the CPU only.
        JPEG 2000 inputs larger than the models' inputs (VinDr's ~2,500-pixel radiographs, for the cpu presets also
        the synthetic ~1,000-pixel ones) are decoded at a coarser wavelet level, skipping the finest levels' data; a
        level is used while it keeps 85% of the resolution the models sample. --full-decode decodes every image at
        full size. Boxes are in original pixels either way.

        Writes to DIR:
          predictions.json            per image: file, image_id, UIDs, abnormal_prob, verdict, boxes kept (xyxy,
                                      original pixels), plus the models and thresholds used
          classifier_predictions.csv  image_id, abnormal_prob, logit      (input of `spinexr eval classifier`)
          detections.json             detector boxes before the rule     (input of `spinexr eval detector|overall`)
          overlays/<key>.png          the image with class-coloured boxes and the verdict, at the resolution decoded
                                      for the models (400-1024 px on the long side); --overlay-size PX asks for PX
                                      and decodes enough for it (a finer level costs up to 4x the decoding)
          dicom/<key>.dcm             with --secondary-capture: DICOM Secondary Capture of the same drawing at full
                                      size, new series (9901) in the source's study, DERIVED, Burned In Annotation YES,
                                      not for diagnostic use
          dicom/sr/<image_id>.dcm     with --dicom-sr: DICOM Enhanced SR, TID 1500 measurement report: per kept
                                      box a coded finding, the box as a 5-point POLYLINE on the source image and its
                                      probability; P(abnormal) and the verdict; same study, new series (9902),
                                      UNVERIFIED (DICOM inputs only: a PNG has no image to reference)
          dicom/pr/<image_id>.dcm     with --gsps: Grayscale Softcopy Presentation State drawing the boxes and labels
                                      over the source image in any PACS viewer (series 9903; DICOM inputs only)
          report.html                 self-contained summary with a thumbnail and findings per image
          errors.csv                  inputs that failed, with the reason
        DICOMweb (URL = the service root, e.g. Orthanc's http://pacs:8042/dicom-web):
          --from-dicomweb URL --study UID   list the study's instances (QIDO-RS), fetch them (WADO-RS) into
                                            DIR/dicomweb/<study>/<sop>.dcm and predict them (with any INPUT given)
          --to-dicomweb URL                 store the SRs and GSPSs (implies --dicom-sr --gsps) there by STOW-RS
        A second run into the same DIR skips images already done (--force redoes them). Each result records the models'
        provenance key: results of other models in DIR are redone, never mixed in.
        Scale-out: --shard i/n takes a deterministic slice by Study Instance UID (a study stays on one worker; PNGs and
        unreadable files by file name), each shard into its own DIR; --shard auto reads i from JOB_COMPLETION_INDEX
        (a Kubernetes Indexed Job) and n from SPINEXR_SHARD_COUNT. `spinexr predict merge SHARD_DIR... --out DIR`
        then writes the aggregate files and report.html of all shards as one run would (per-image files stay put).

        exit codes: 0 all predicted, 1 some inputs failed (listed in errors.csv), 2 bad usage or nothing predicted,
                    3 stopped early because results could not be written (disk full): rerun once there is room
        """;

    public int Run(CliArgs args)
    {
        if (args.Positionals is ["merge", ..]) return Merge(args);
        Uri? from = DicomWebUrl(args, "from-dicomweb"), to = DicomWebUrl(args, "to-dicomweb");
        string? study = args.Get("study");
        if (from != null && study == null) throw new UsageException("--from-dicomweb needs --study UID");
        if (study != null && from == null) throw new UsageException("--study needs --from-dicomweb URL");
        if (args.Positionals.Count == 0 && from == null) throw new UsageException("no INPUT given");
        var classifiers = SplitRuns(args.Require("classifier"));
        var detectors = SplitRuns(args.Require("detector"));
        string outDir = args.Require("out");
        var (shardIndex, shardCount) = ParseShard(args.Get("shard"));
        double? threshold = args.Get("abnormal-threshold") is null ? null : args.GetDouble("abnormal-threshold", 0);
        var engine = Engine(args);
        var options = new PredictionJobOptions
        {
            OutDir = outDir,
            Force = args.Flag("force"),
            ShardIndex = shardIndex,
            ShardCount = shardCount,
            BatchSize = args.GetInt("batch", 8),
            Workers = args.GetInt("workers", Math.Max(1, Environment.ProcessorCount)),
            Overlays = !args.Flag("no-overlays"),
            OverlaySize = OverlaySize(args),
            SecondaryCapture = args.Flag("secondary-capture"),
            StructuredReport = args.Flag("dicom-sr") || to != null,
            PresentationState = args.Flag("gsps") || to != null,
            ReducedDecode = !args.Flag("full-decode"),
            Quiet = args.Flag("quiet"),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var inputErrors = new List<(string File, string Reason)>();
        var files = args.Positionals.Count > 0 ? InputFiles.Expand(args.Positionals, inputErrors) : [];
        using var http = from != null || to != null ? new HttpClient { Timeout = TimeSpan.FromMinutes(10) } : null;
        if (from != null)
        {
            try
            {
                var fetched = DicomWebTransfer.FetchStudyAsync(new DicomWebClient(http!), from, study!, Path.Combine(outDir, "dicomweb")).GetAwaiter().GetResult();
                Console.WriteLine($"fetched {fetched.Count} instance(s) of study {study} from {from}");
                files = files.Concat(fetched).ToList();
            }
            catch (DicomException e)
            {
                Console.Error.WriteLine("spinexr: " + e.Message);
                return ExitCodes.Usage;
            }
        }
        foreach (var (f, r) in inputErrors) Console.Error.WriteLine($"spinexr: {f}: {r}");
        if (files.Count == 0) { Console.Error.WriteLine("spinexr: no input images"); return ExitCodes.Usage; }

        using var pipeline = SpinePipeline.Load(classifiers, detectors, new SpinePipelineOptions
        {
            AbnormalThreshold = threshold,
            KeepThreshold = args.GetDouble("keep-threshold", 0.5),
            Tta = args.Flag("tta") ? true : null,
            Engine = engine,
        });
        var result = new PredictionJob(pipeline, PredictionJob.Loader(pipeline, options), options).Run(files, inputErrors);

        if (result.StoppedEarly is { } why)
        {
            Console.Error.WriteLine($"spinexr: predict stopped early after {result.Predicted} image(s): {why}");
            return ExitCodes.OutputFailed;
        }
        int abnormal = result.Predictions.Count(p => p.Verdict == "abnormal");
        Console.WriteLine($"predicted {result.Predicted} image(s)" + (result.Redone > 0 ? $" ({result.Redone} redone: other models had made them)" : "") +
                          $", skipped {result.Skipped} already done, {result.Errors.Count} failed");
        Console.WriteLine($"abnormal {abnormal} of {result.Predictions.Count} (threshold {pipeline.Provenance.AbnormalThreshold.ToString("0.###", CultureInfo.InvariantCulture)}); " +
                          $"boxes kept {result.Predictions.Sum(p => p.Boxes.Count)}");
        foreach (var (f, r) in result.Errors.Skip(inputErrors.Count).Take(20)) Console.Error.WriteLine($"spinexr: {f}: {r}");
        Console.WriteLine("report: " + Path.GetFullPath(Path.Combine(outDir, "report.html")));
        if (result.Predictions.Count == 0) return ExitCodes.Usage;
        if (to != null)
        {
            try
            {
                var sent = DicomWebTransfer.SendResultsAsync(new DicomWebClient(http!), to, outDir).GetAwaiter().GetResult();
                Console.WriteLine($"stored {sent.Stored.Count} DICOM result(s) on {to}" + (sent.Failed.Count > 0 ? $", {sent.Failed.Count} refused" : ""));
                if (sent.Failed.Count > 0) return ExitCodes.SomeFailed;
            }
            catch (DicomException e)
            {
                Console.Error.WriteLine("spinexr: " + e.Message);
                return ExitCodes.SomeFailed;
            }
        }
        return result.Errors.Count > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }

    /// <summary>--backend and --device, checked together; shared with `serve`.</summary>
    internal static InferenceEngine Engine(CliArgs args)
    {
        try { return InferenceEngine.Parse(args.Get("backend"), args.Get("device")); }
        catch (ArgumentException e)
        {
            string flag = e.ParamName == nameof(InferenceEngine.Backend) ? "--backend" : "--device";
            throw new UsageException($"{flag}: {e.Message.Split(" (Parameter")[0]}");
        }
    }

    private static Uri? DicomWebUrl(CliArgs args, string name)
    {
        if (args.Get(name) is not { } value) return null;
        return Uri.TryCreate(value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u
            : throw new UsageException($"--{name} expects an http(s) URL, got '{value}'");
    }

    private static int? OverlaySize(CliArgs args)
    {
        if (args.Get("overlay-size") is null) return null;
        int px = args.GetInt("overlay-size", 0);
        // Checked here too (PredictionJobOptions.Validate has the same bound) to name the flag rather than the property.
        return px >= PredictionJobOptions.SmallestOverlay ? px
            : throw new UsageException($"--overlay-size expects at least {PredictionJobOptions.SmallestOverlay} pixels, got {px}");
    }

    internal static List<string> SplitRuns(string value)
    {
        var runs = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var r in runs)
            if (!Directory.Exists(r)) throw new UsageException($"run directory not found: {r}");
        return runs;
    }

    private static int Merge(CliArgs args)
    {
        var shards = args.Positionals.Skip(1).ToList();
        if (shards.Count == 0) throw new UsageException("predict merge: no SHARD_DIR given");
        string outDir = args.Require("out");
        foreach (var d in shards)
            if (!Directory.Exists(d)) throw new UsageException($"predict merge: no folder '{d}'");
        PredictionJobResult merged;
        try { merged = PredictionJob.Merge(shards, outDir); }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine("spinexr: " + e.Message);
            return ExitCodes.Usage;
        }
        Console.WriteLine($"merged {shards.Count} shard(s): {merged.Predictions.Count} image(s), {merged.Errors.Count} failed");
        Console.WriteLine("report: " + Path.GetFullPath(Path.Combine(outDir, "report.html")));
        return merged.Errors.Count > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
    }

    internal static (int Index, int Count) ParseShard(string? s)
    {
        if (s == null) return (0, 1);
        if (s == "auto")
        {
            try { return InputFiles.ShardFromEnvironment(Environment.GetEnvironmentVariable); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
        var parts = s.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int i) && int.TryParse(parts[1], out int n) && n >= 1 && i >= 0 && i < n)
            return (i, n);
        throw new UsageException($"--shard expects i/n with 0 <= i < n, got '{s}'");
    }
}
