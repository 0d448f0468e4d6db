using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using SpineXR.Diagnostics;
using SpineXR.Evaluation;
using SpineXR.Inference;
using SpineXR.IO;
using SpineXR.Reports;

namespace SpineXR.Jobs;

/// <summary>Options of a `spinexr predict` run.</summary>
public sealed record PredictionJobOptions
{
    /// <summary>Output folder.</summary>
    public required string OutDir { get; init; }

    /// <summary>Redo images that already have a result in <see cref="OutDir"/> (default: skip them).</summary>
    public bool Force { get; init; }

    /// <summary>This job's slice `index/count` of the inputs (see <see cref="InputFiles.InShard"/>); 0/1 = all.</summary>
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;

    /// <summary>Images per model call: consecutive inputs, so the same inputs give the same batches and the same results.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Parallel decoders; they run ahead of the models by at most two batches, so memory stays bounded.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Write an overlay PNG per image (and thumbnails for the report).</summary>
    public bool Overlays { get; init; } = true;

    /// <summary>
    /// Also write a DICOM Secondary Capture per image (`dicom/KEY.dcm`): the findings burned into the full-size image,
    /// a new series in the source's study, derived, Burned In Annotation YES, not for diagnostic use.
    /// </summary>
    public bool SecondaryCapture { get; init; }

    /// <summary>
    /// Also write a DICOM SR per DICOM input (`dicom/sr/IMAGE_ID.dcm`): a TID 1500 measurement report with the kept
    /// boxes, their classes and scores, and P(abnormal) and the verdict, in a new series of the source's study.
    /// PNG inputs have no DICOM image to reference and get none.
    /// </summary>
    public bool StructuredReport { get; init; }

    /// <summary>
    /// Also write a Grayscale Softcopy Presentation State per DICOM input (`dicom/pr/IMAGE_ID.dcm`): the boxes and
    /// labels as graphic annotations on the source image, for any PACS viewer.
    /// </summary>
    public bool PresentationState { get; init; }

    /// <summary>
    /// Longest side of overlay PNGs when <see cref="OverlaySize"/> is not given: an overlay shows the image as decoded
    /// for the models, shrunk to at most this. Thumbnails in report.html use <see cref="ThumbnailSide"/>.
    /// </summary>
    public int OverlayMaxSide { get; init; } = 1024;

    /// <summary>
    /// The default overlay's longest side is at least this (or the whole image when smaller): models that are content
    /// with a coarse level (a classifier alone, a small detector on a large image) still give a readable picture,
    /// for which the decode keeps that much. The `cpu` presets' levels are above it (550-650 px).
    /// </summary>
    public int OverlayMinSide { get; init; } = 400;
    public int ThumbnailSide { get; init; } = 320;

    /// <summary>
    /// Longest side asked of overlay PNGs (`--overlay-size`; never more than the original image): the decode then
    /// keeps enough resolution for it. Null (default): overlays at the resolution decoded for the models (see
    /// <see cref="PredictionJob.OverlaySide"/>): 550-650 pixels on the long side for the `cpu` presets, 1024 for `paper`.
    /// </summary>
    public int? OverlaySize { get; init; }

    /// <summary>The least <see cref="OverlaySize"/> and <see cref="OverlayMinSide"/> accepted.</summary>
    public const int SmallestOverlay = 16;

    /// <summary>
    /// Decode JPEG 2000 inputs at the coarsest wavelet level that still serves the models and the overlay
    /// (see <see cref="PredictionJob.Allowance"/>); false decodes every image at full size.
    /// </summary>
    public bool ReducedDecode { get; init; } = true;

    /// <summary>
    /// The least share of the resolution the models sample that a reduced decode must keep: a wavelet level whose
    /// short side is 85% of the detector's 448-pixel input still serves it (resized up by at most 1/0.85 = 1.18x,
    /// inside the detector's training scales 352-448). 1 keeps every pixel the models sample.
    /// </summary>
    public double MinModelDetail { get; init; } = 0.85;

    /// <summary>
    /// Decode and write while the models run, instead of taking turns with them (<see cref="CoreTurns"/>). Off by
    /// default: on CPU the models use every core and overlapping cost them more than it saved; for models that run
    /// elsewhere (a GPU) overlapping is what hides the decoding.
    /// </summary>
    public bool Overlap { get; init; }

    /// <summary>No progress output.</summary>
    public bool Quiet { get; init; }

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutDir)) throw new ArgumentException("OutDir is required", nameof(OutDir));
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount)
            throw new ArgumentException($"shard {ShardIndex}/{ShardCount}: need 0 <= index < count", nameof(ShardIndex));
        if (BatchSize < 1) throw new ArgumentException("BatchSize must be >= 1", nameof(BatchSize));
        if (Workers < 1) throw new ArgumentException("Workers must be >= 1", nameof(Workers));
        if (OverlaySize < SmallestOverlay) throw new ArgumentException($"OverlaySize must be >= {SmallestOverlay} pixels", nameof(OverlaySize));
        if (OverlayMinSide < SmallestOverlay) throw new ArgumentException($"OverlayMinSide must be >= {SmallestOverlay} pixels", nameof(OverlayMinSide));
        if (MinModelDetail is <= 0 or > 1) throw new ArgumentException("MinModelDetail must be in (0, 1]", nameof(MinModelDetail));
    }
}

/// <summary>Outcome of a prediction run: all results in the output (new and earlier), and the inputs that failed.</summary>
public sealed record PredictionJobResult(
    IReadOnlyList<ImagePrediction> Predictions, int Predicted, int Skipped, IReadOnlyList<(string File, string Reason)> Errors)
{
    /// <summary>
    /// Why the run stopped before its inputs were done (writes kept failing: a full disk, a lost mount), or null.
    /// The inputs not reached are neither results nor errors: a rerun picks them up.
    /// </summary>
    public string? StoppedEarly { get; init; }

    /// <summary>Earlier results made by other models (another provenance key), redone by this run.</summary>
    public int Redone { get; init; }
}

/// <summary>
/// Runs the pipeline over many files: decode in parallel (bounded), predict in batches of consecutive inputs
/// (<see cref="OrderedDecoder"/>), write per-image results atomically as they finish (so a killed or repeated run
/// resumes), then the aggregate files: `predictions.json`, `classifier_predictions.csv`, `detections.json`,
/// `errors.csv`, `overlays/`, `report.html`.
/// </summary>
public sealed class PredictionJob(ISpinePredictor predictor, Func<string, SpineImage> load, PredictionJobOptions options)
{
    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private const string ItemsFolder = ".items";

    /// <summary>
    /// How far the job's inputs may be shrunk when decoded: what the predictor's models allow, widened by
    /// <see cref="PredictionJobOptions.MinModelDetail"/>, and with overlays limited by the asked
    /// <see cref="PredictionJobOptions.OverlaySize"/> or else <see cref="PredictionJobOptions.OverlayMinSide"/>;
    /// a Secondary Capture burns the findings into the full-size image, so then none. Null when
    /// <see cref="PredictionJobOptions.ReducedDecode"/> is off.
    /// </summary>
    public static ShrinkAllowance? Allowance(ISpinePredictor predictor, PredictionJobOptions options)
    {
        if (!options.ReducedDecode || options.SecondaryCapture) return null;
        return (w, h) => Shrink(predictor, options, w, h);
    }

    /// <summary>
    /// Longest side of the overlay PNG of an image of <paramref name="width"/> x <paramref name="height"/> original
    /// pixels: the asked <see cref="PredictionJobOptions.OverlaySize"/>, else the size of the wavelet level the models
    /// allow (no smaller than <see cref="PredictionJobOptions.OverlayMinSide"/>), whatever the encoding and with or
    /// without `--full-decode`, so an uncompressed input and a JPEG 2000 one get the same picture; at most
    /// <see cref="PredictionJobOptions.OverlayMaxSide"/>.
    /// </summary>
    public static int OverlaySide(ISpinePredictor predictor, PredictionJobOptions options, int width, int height)
    {
        int longSide = Math.Max(width, height);
        if (options.OverlaySize is int asked) return Math.Min(asked, longSide);
        int r = SpineImageLoader.Reductions(Shrink(predictor, options, width, height)); // a job with overlays: the floor applies
        return Math.Min(options.OverlayMaxSide, (longSide + (1 << r) - 1) >> r);
    }

    /// <summary>The shrink both <see cref="Allowance"/> and <see cref="OverlaySide"/> follow.</summary>
    private static double Shrink(ISpinePredictor predictor, PredictionJobOptions options, int width, int height)
    {
        double shrink = predictor.MaxInputShrink(width, height) / options.MinModelDetail;
        if (options.Overlays) shrink = Math.Min(shrink, Math.Max(width, height) / (double)(options.OverlaySize ?? options.OverlayMinSide));
        return Math.Max(1, shrink);
    }

    /// <summary>The loader `spinexr predict` uses: <see cref="SpineImageLoader.Load(string, ShrinkAllowance?)"/> with <see cref="Allowance"/>.</summary>
    public static Func<string, SpineImage> Loader(ISpinePredictor predictor, PredictionJobOptions options)
    {
        var allowance = Allowance(predictor, options);
        return path => SpineImageLoader.Load(path, allowance);
    }

    public PredictionJobResult Run(IReadOnlyList<string> files, IReadOnlyList<(string File, string Reason)> inputErrors, CancellationToken ct = default)
    {
        options.Validate();
        string outDir = Path.GetFullPath(options.OutDir);
        Directory.CreateDirectory(Path.Combine(outDir, ItemsFolder));
        if (options.Overlays) Directory.CreateDirectory(Path.Combine(outDir, "overlays"));
        if (options.SecondaryCapture) Directory.CreateDirectory(Path.Combine(outDir, "dicom"));
        if (options.StructuredReport) Directory.CreateDirectory(Path.Combine(outDir, "dicom", "sr"));
        if (options.PresentationState) Directory.CreateDirectory(Path.Combine(outDir, "dicom", "pr"));

        // A killed run (kill -9, power loss) leaves only AtomicFile temporaries, never half results: clear them.
        foreach (var folder in new[] { outDir, Path.Combine(outDir, ItemsFolder), Path.Combine(outDir, "overlays"), Path.Combine(outDir, "dicom") })
            AtomicFile.RemoveStale(folder);

        var mine = files.Where(f => InputFiles.InShard(f, options.ShardIndex, options.ShardCount)).ToList();
        // An earlier result counts only when the same models made it; one from other models is redone, never mixed in.
        int redone = 0;
        var pending = options.Force ? mine : mine.Where(f =>
        {
            var state = ItemState(outDir, f);
            if (state == Item.OtherModels) Interlocked.Increment(ref redone);
            return state != Item.Done || LacksDicomResults(outDir, f);
        }).ToList();
        var errors = new List<(string File, string Reason)>(inputErrors);
        int predicted = 0;
        // Writes that keep failing (a full disk) stop the run rather than compute for hours into nothing.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        string? stoppedEarly = null;
        int consecutiveWriteFailures = 0;
        var runCt = stop.Token;

        using (var progress = new ProgressReporter("predict", pending.Count, quiet: options.Quiet))
        {
            var turns = new CoreTurns(!options.Overlap);
            var decoder = new OrderedDecoder(pending, load, options.BatchSize);
            var decoding = decoder.Start(options.Workers, turns, runCt);

            // Results go to a writer thread (overlay PNGs, the item file) so the models never wait on the disk or the
            // PNG encoder (taking turns, at most for the item under way); the queue holds at most two batches, so
            // memory stays bounded.
            var results = Channel.CreateBounded<(SpineImage Image, ImagePrediction Prediction)>(
                new BoundedChannelOptions(options.BatchSize * 2) { SingleReader = true, SingleWriter = true });
            var writer = Task.Run(async () =>
            {
                // Everything queued is written, even after a cancellation: those images were predicted.
                await foreach (var (img, p) in results.Reader.ReadAllAsync(CancellationToken.None))
                {
                    using var turn = turns.SideWork();
                    if (stoppedEarly is not null)
                    {
                        progress.Advance(); // predicted, but the run has stopped writing: a rerun redoes it
                        continue;
                    }
                    try
                    {
                        WriteItem(outDir, img, p);
                        Interlocked.Increment(ref predicted);
                        consecutiveWriteFailures = 0;
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // Any fault of one item's writers (I/O, a DicomException from the Secondary Capture, a NaN the
                        // JSON writer refuses) is that item's error; the writer goes on, so the models never block on it.
                        lock (errors) errors.Add((img.File, "cannot write its result: " + ErrorText.OneLine(e)));
                        if (e is IOException or UnauthorizedAccessException && ++consecutiveWriteFailures >= MaxConsecutiveWriteFailures)
                        {
                            stoppedEarly = $"{consecutiveWriteFailures} writes in a row failed in {outDir} (disk full?): {ErrorText.OneLine(e)}";
                            stop.Cancel();
                        }
                    }
                    progress.Advance();
                }
            }, CancellationToken.None);

            try
            {
                foreach (var inputs in decoder.Batches(runCt))
                {
                    var batch = DecodedImages(inputs, errors, progress);
                    if (batch.Count == 0) continue;
                    IReadOnlyList<ImagePrediction> predictions;
                    turns.ModelsStart();
                    try { predictions = predictor.Predict(batch, runCt); }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A model failure on a batch is reported per image; the rest of the run goes on.
                        lock (errors) errors.AddRange(batch.Select(b => (b.File, "prediction failed: " + ErrorText.OneLine(e))));
                        progress.Advance(batch.Count);
                        continue;
                    }
                    finally { turns.ModelsEnd(); }
                    for (int i = 0; i < batch.Count; i++)
                        results.Writer.WriteAsync((batch[i], predictions[i]), runCt).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException) when (stoppedEarly is not null && !ct.IsCancellationRequested)
            {
                // the writer stopped the run; what was queued is drained below
            }
            finally
            {
                results.Writer.Complete();
                writer.GetAwaiter().GetResult();
            }
            try { decoding.GetAwaiter().GetResult(); }
            catch (OperationCanceledException) when (stoppedEarly is not null && !ct.IsCancellationRequested)
            {
                // stopped by the writer: the inputs not reached stay pending for a rerun
            }
        }

        // Aggregate over every input of this shard that has a result, from this run or an earlier one.
        var all = new List<ImagePrediction>();
        var failed = errors.Select(x => x.File).ToHashSet(StringComparer.Ordinal);
        foreach (var f in mine)
        {
            string item = ItemPath(outDir, f);
            if (!File.Exists(item)) continue;
            ImagePrediction? p;
            try { p = JsonSerializer.Deserialize<ImagePrediction>(File.ReadAllBytes(item), Json); }
            catch (JsonException e) { errors.Add((f, "unreadable earlier result " + item + ": " + e.Message)); continue; }
            if (p is null) continue;
            if (p.ProvenanceKey != _provenanceKey)
            {
                // still the other models' result: this run could not redo it, and it must not be mixed in
                if (!failed.Contains(f)) errors.Add((f, $"its result in {item} is from other models (provenance {p.ProvenanceKey ?? "unknown"}); not included"));
                continue;
            }
            all.Add(p);
        }
        try
        {
            WriteAggregates(outDir, all, errors);
        }
        catch (Exception e) when (stoppedEarly is not null && e is IOException or UnauthorizedAccessException)
        {
            // the same full disk; the per-image results written so far stand, and a rerun writes the aggregates
        }
        return new PredictionJobResult(all, predicted, mine.Count - pending.Count, errors) { StoppedEarly = stoppedEarly, Redone = redone };
    }

    /// <summary>
    /// The images of a batch; the inputs that could not be decoded are reported here, in input order, and left out
    /// (the batch is then smaller: its make-up still depends on the inputs alone).
    /// </summary>
    private static List<SpineImage> DecodedImages(IReadOnlyList<DecodedInput> inputs, List<(string File, string Reason)> errors, ProgressReporter progress)
    {
        var images = new List<SpineImage>(inputs.Count);
        foreach (var (file, image, error) in inputs)
        {
            if (image != null)
            {
                images.Add(image);
                continue;
            }
            lock (errors) errors.Add((file, ErrorText.About(file, error!)));
            progress.Advance();
        }
        return images;
    }

    /// <summary>Consecutive failed result writes after which a run stops (a full disk fails every write).</summary>
    public const int MaxConsecutiveWriteFailures = 3;

    private enum Item { Missing, Done, OtherModels }

    /// <summary>Whether <paramref name="file"/> has a result in the output, and made by these models.</summary>
    private Item ItemState(string outDir, string file)
    {
        string item = ItemPath(outDir, file);
        if (!File.Exists(item)) return Item.Missing;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(item));
            return doc.RootElement.TryGetProperty("provenance_key", out var k) && k.GetString() == _provenanceKey ? Item.Done : Item.OtherModels;
        }
        catch (JsonException)
        {
            return Item.Missing; // unreadable: redo it
        }
    }

    /// <summary>Models and thresholds of this job (not its time), from which Secondary Capture UIDs derive.</summary>
    private readonly string _provenanceKey = DerivedInstance.ProvenanceKey(predictor.Provenance);

    /// <summary>`dicom/KIND/IMAGE_ID.dcm`, the image id made safe for a file name.</summary>
    public static string DicomResultPath(string outDir, string kind, ImagePrediction p) => DicomResultPath(outDir, kind, p.ImageId);

    private static string DicomResultPath(string outDir, string kind, string imageId)
    {
        var safe = new StringBuilder(imageId.Length);
        foreach (char c in imageId) safe.Append(char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        return Path.Combine(outDir, "dicom", kind, safe + ".dcm");
    }

    /// <summary>
    /// A finished DICOM input that lacks an SR or presentation state this run asks for (an earlier run was made
    /// without them): it is predicted again, so asking for them later is enough. PNG inputs never have them.
    /// </summary>
    private bool LacksDicomResults(string outDir, string file)
    {
        if (file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) return false;
        string id = Path.GetFileNameWithoutExtension(file);
        return options.StructuredReport && !File.Exists(DicomResultPath(outDir, "sr", id))
            || options.PresentationState && !File.Exists(DicomResultPath(outDir, "pr", id));
    }

    private static string ItemPath(string outDir, string file) => Path.Combine(outDir, ItemsFolder, InputFiles.ItemKey(file) + ".json");

    private void WriteItem(string outDir, SpineImage img, ImagePrediction p)
    {
        string key = InputFiles.ItemKey(img.File);
        string banner = $"{p.Verdict}  P(abnormal) = {p.AbnormalProbability.ToString("0.000", CultureInfo.InvariantCulture)}";
        if (options.SecondaryCapture)
            Reports.SecondaryCapture.Save(Path.Combine(outDir, "dicom", key + ".dcm"), img, p, banner, _provenanceKey);
        // SR and presentation state reference the source image: only DICOM inputs have one.
        if (DerivedInstance.SourceReference(img) != null)
        {
            if (options.StructuredReport)
                MeasurementReport.Save(DicomResultPath(outDir, "sr", p), img, p, _provenanceKey);
            if (options.PresentationState)
                Reports.PresentationState.Save(DicomResultPath(outDir, "pr", p), img, p, _provenanceKey);
        }
        if (options.Overlays)
        {
            bool abnormal = p.Verdict == "abnormal";
            // boxes are in original pixels, the image may be a reduced decode
            var boxes = img.Reduction == 0 ? p.Boxes : p.Boxes.Select(b => b with { Xyxy = b.Xyxy.Select(v => v / img.Subsampling).ToArray() }).ToList();
            int side = OverlaySide(predictor, options, img.OriginalWidth, img.OriginalHeight);
            AtomicFile.Write(Path.Combine(outDir, "overlays", key + ".png"),
                s => OverlayRenderer.WritePng(s, img.Gray8, img.Width, img.Height, boxes, banner, abnormal, side));
            AtomicFile.Write(Path.Combine(outDir, ItemsFolder, key + ".thumb.jpg"),
                s => OverlayRenderer.WriteJpeg(s, img.Gray8, img.Width, img.Height, boxes, null, abnormal, options.ThumbnailSide));
        }
        // The result file is written last: its presence means the image is finished, by the models its key names.
        AtomicFile.WriteAllBytes(ItemPath(outDir, img.File), JsonSerializer.SerializeToUtf8Bytes(p with { ProvenanceKey = _provenanceKey }, Json));
    }

    private void WriteAggregates(string outDir, List<ImagePrediction> all, List<(string File, string Reason)> errors) =>
        WriteAggregates(outDir, all, errors, predictor.Provenance, p => Thumbnail(outDir, p));

    /// <summary>The thumbnail of an image for report.html, from the .items folder of <paramref name="outDir"/>.</summary>
    private static byte[]? Thumbnail(string outDir, ImagePrediction p)
    {
        // JPEG since 2026-11-27; an output folder resumed from before has PNG thumbnails
        string stem = Path.Combine(outDir, ItemsFolder, InputFiles.ItemKey(p.File) + ".thumb");
        return File.Exists(stem + ".jpg") ? File.ReadAllBytes(stem + ".jpg") : File.Exists(stem + ".png") ? File.ReadAllBytes(stem + ".png") : null;
    }

    private static void WriteAggregates(string outDir, IReadOnlyList<ImagePrediction> all, IReadOnlyList<(string File, string Reason)> errors,
        PredictionProvenance provenance, Func<ImagePrediction, byte[]?> thumbnail)
    {
        // Written as streams: memory stays level in the number of images (aggregating 1,000 overlaid images as
        // whole-file strings peaked at twice the working set of the prediction itself).
        var doc = new Dictionary<string, object> { ["provenance"] = provenance, ["images"] = all };
        AtomicFile.Write(Path.Combine(outDir, "predictions.json"), s => JsonSerializer.Serialize(s, doc, Json));

        ClassifierPredictionsFile.Write(Path.Combine(outDir, "classifier_predictions.csv"),
            all.Select(p => new ClassifierPrediction(p.ImageId, p.AbnormalProbability, p.Logit)));

        var dets = new List<Dictionary<string, object>>();
        foreach (var p in all)
            foreach (var b in p.DetectorBoxes ?? p.Boxes)
                dets.Add(new()
                {
                    ["image_id"] = p.ImageId,
                    ["category"] = b.Class,
                    ["category_id"] = b.ClassId,
                    ["bbox"] = new[] { b.Xyxy[0], b.Xyxy[1], b.Xyxy[2] - b.Xyxy[0], b.Xyxy[3] - b.Xyxy[1] },
                    ["score"] = b.Score,
                });
        AtomicFile.Write(Path.Combine(outDir, "detections.json"), s => JsonSerializer.Serialize(s, dets, Json));

        var err = new StringBuilder("file,reason\n");
        foreach (var (f, r) in errors) err.Append(CsvWriter.Escape(f)).Append(',').Append(CsvWriter.Escape(r)).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(outDir, "errors.csv"), err.ToString());

        AtomicFile.WriteText(Path.Combine(outDir, "report.html"), w => PredictionReport.Write(w, all, thumbnail, provenance, errors));
    }

    /// <summary>
    /// `spinexr predict merge`: the aggregate files and report of several shard outputs (each a `predict --shard`
    /// run's folder) as one run over all their inputs would write them: images in input order (by file path), errors
    /// appended shard by shard, thumbnails read from each shard's folder. Per-image files (overlays, DICOM results)
    /// stay in the shards. Shards run with different models or thresholds are refused (the models and thresholds
    /// must be the same; their creation times may differ), as is an image in two shards.
    /// </summary>
    public static PredictionJobResult Merge(IReadOnlyList<string> shardDirs, string outDir)
    {
        if (shardDirs.Count == 0) throw new ArgumentException("no shard folder given", nameof(shardDirs));
        var images = new List<(ImagePrediction Prediction, string Dir)>();
        var errors = new List<(string File, string Reason)>();
        PredictionProvenance? provenance = null;
        string? models = null;
        foreach (string dir in shardDirs)
        {
            string path = Path.Combine(dir, "predictions.json");
            if (!File.Exists(path)) throw new InvalidDataException($"{path}: missing (is {dir} a predict output folder?)");
            ShardFile shard;
            try { shard = JsonSerializer.Deserialize<ShardFile>(File.ReadAllBytes(path), Json) ?? throw new JsonException("empty document"); }
            catch (JsonException e) { throw new InvalidDataException($"{path}: not a predictions file: {e.Message}", e); }
            if (shard.Provenance is null || shard.Images is null) throw new InvalidDataException($"{path}: no provenance or images");
            string key = DerivedInstance.ProvenanceKey(shard.Provenance);
            if (models != null && key != models)
                throw new InvalidDataException($"{path}: made with other models or thresholds than {shardDirs[0]} (shards must share them)");
            models ??= key;
            provenance ??= shard.Provenance;
            images.AddRange(shard.Images.Select(p => (p, dir)));
            string errorsPath = Path.Combine(dir, "errors.csv");
            if (File.Exists(errorsPath))
            {
                using var csv = CsvReader.Open(errorsPath);
                int file = csv.Require("file"), reason = csv.Require("reason");
                while (csv.Read() is { } row) errors.Add((row[file], row[reason]));
            }
        }
        errors = errors.Distinct().ToList(); // inputs missing on the command line are listed by every shard
        var duplicate = images.GroupBy(i => i.Prediction.File).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new InvalidDataException($"{duplicate.Key} is in more than one shard ({string.Join(", ", duplicate.Select(d => d.Dir))})");
        images.Sort((a, b) => string.CompareOrdinal(a.Prediction.File, b.Prediction.File));
        Directory.CreateDirectory(outDir);
        var byFile = images.ToDictionary(i => i.Prediction.File, i => i.Dir);
        var all = images.Select(i => i.Prediction).ToList();
        WriteAggregates(outDir, all, errors, provenance!, p => Thumbnail(byFile[p.File], p));
        return new PredictionJobResult(all, 0, all.Count, errors);
    }

    private sealed record ShardFile
    {
        [System.Text.Json.Serialization.JsonPropertyName("provenance")] public PredictionProvenance? Provenance { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("images")] public List<ImagePrediction>? Images { get; init; }
    }
}
