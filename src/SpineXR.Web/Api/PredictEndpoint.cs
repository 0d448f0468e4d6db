using System.Text.Json;
using SpineXR.Jobs;
using SpineXR.Inference;
using SpineXR.Web.Guards;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Api;

/// <summary>
/// POST /api/v1/predict: per-client admission (429) -> read the upload into memory under a deadline (413, 415, 408)
/// -> admit to the queue (or 503) -> wait for a running slot -> reserve decode memory and decode (400 with the
/// reader's reason, 413 over the pixel limit or budget) -> predict -> keep the view, bound to the caller, under a
/// fresh random id -> the same per-image JSON as `spinexr predict`. The whole request runs under
/// <see cref="SpineServerOptions.RequestTimeoutSeconds"/>.
/// </summary>
internal sealed class PredictEndpoint(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder decoder,
    PredictionQueue queue, ResultCache results, ClientGate clients, DecodeBudget budget)
{
    private readonly string _provenanceKey = SpineXR.Reports.DerivedInstance.ProvenanceKey(predictor.Provenance);
    // As predict's allowance (PredictionJob.Allowance): the models' shrink, widened by the same detail margin, and the
    // viewer's copy treated as predict treats an asked overlay size, so the view never needs a finer level.
    private readonly ShrinkAllowance? _allowance = AllowanceFor(predictor, options);

    /// <summary>What one decode may cost on this server (pixel limit, inflated size, shrink, decode budget); STOW-RS uses it too.</summary>
    internal static UploadLimits Limits(SpineServerOptions options, ShrinkAllowance? allowance, DecodeBudget budget, CancellationToken ct) => new()
    {
        ViewMaxSide = options.ViewMaxSide,
        MaxPixels = options.MaxPixels,
        // A deflated dataset inflates to no more than an uncompressed upload may be.
        MaxInflatedBytes = options.MaxUploadBytes,
        Allowance = allowance,
        Decode = options.Decode,
        Reserve = bytes => bytes > budget.Capacity
            ? throw new ImageTooLargeException($"decoding this image needs about {bytes >> 20} MiB; the server's decode budget is {budget.Capacity >> 20} MiB (--decode-budget-mb)")
            : budget.Reserve(bytes, ct),
    };

    /// <summary>The shrink predict would allow these models and this view size (one rule for predict, uploads and STOW-RS).</summary>
    internal static ShrinkAllowance? AllowanceFor(ISpinePredictor predictor, SpineServerOptions options) =>
        PredictionJob.Allowance(predictor, new PredictionJobOptions { OutDir = "-", OverlaySize = options.ViewMaxSide });

    public async Task HandleAsync(HttpContext ctx)
    {
        var (kind, boundary) = UploadReader.CheckHeaders(ctx.Request, options.MaxUploadBytes);
        string? dicomResult = DicomResults.Requested(ctx.Request); // a bad ?result= is refused before the upload is read

        var (pass, full) = clients.TryEnter(Caller.Address(ctx));
        using var _ = pass ?? throw (full
            ? new ProblemException(503, "busy", "The server is busy", $"{options.MaxRequestsInFlight} uploads are in flight; retry later") { RetryAfterSeconds = queue.RetryAfterSeconds() }
            : new ProblemException(429, "too-many-requests", "Too many requests from this client",
                $"at most {options.MaxRequestsPerClient} requests per client at once") { RetryAfterSeconds = queue.RetryAfterSeconds() });

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.RequestTimeoutSeconds));
        var ct = deadline.Token;

        UploadReader.Upload? upload;
        using (var body = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            body.CancelAfter(TimeSpan.FromSeconds(options.UploadTimeoutSeconds));
            try
            {
                upload = await UploadReader.ReadAsync(ctx.Request, kind, boundary, options.MaxUploadBytes, body.Token);
            }
            catch (OperationCanceledException) when (body.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested)
            {
                ctx.Response.Headers.Connection = "close";
                throw new ProblemException(408, "upload-timeout", "The upload took too long",
                    $"the body did not arrive within {Math.Min(options.UploadTimeoutSeconds, options.RequestTimeoutSeconds)} s");
            }
        }

        // Queue admission once the body is here: slow senders hold no queue place.
        using var ticket = queue.TryAdmit() ?? throw new ProblemException(503, "queue-full", "The server is busy",
            $"{queue.MaxConcurrency} predictions are running and {queue.QueueLength} waiting; retry later")
        { RetryAfterSeconds = queue.RetryAfterSeconds() };
        try
        {
            await ticket.WaitTurnAsync(ct);
            await RunAsync(ctx, upload, dicomResult, ct);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested)
        {
            throw new ProblemException(503, "timeout", "The prediction took too long",
                $"not answered within {options.RequestTimeoutSeconds} s (queue, decode and models); retry later")
            { RetryAfterSeconds = queue.RetryAfterSeconds() };
        }
    }

    private async Task RunAsync(HttpContext ctx, UploadReader.Upload upload, string? dicomResult, CancellationToken ct)
    {
        var limits = Limits(options, _allowance, budget, ct);
        DecodedUpload decoded;
        try
        {
            decoded = decoder.Decode(upload.Bytes, upload.Kind, upload.FileName, limits);
            // As `spinexr predict`: a named file's stem is its image id (VinDr layout: <image_id>.dicom).
            if (upload.Named && Path.GetFileNameWithoutExtension(upload.FileName) is { Length: > 0 } stem)
                decoded = decoded with { Image = decoded.Image with { ImageId = stem } };
        }
        catch (UnreadableUploadException e)
        {
            throw ProblemException.BadRequest($"{upload.FileName}: {e.Message}");
        }
        catch (ImageTooLargeException e)
        {
            throw new ProblemException(413, "image-too-large", "The image is too large", $"{upload.FileName}: {e.Message}");
        }

        using var reservation = decoded.Reservation;
        // The viewer's copy is built on another core while the models run; the answer does not wait for it, but the
        // running slot (and the decode budget) is held until it is done, so full-size buffers never outnumber them.
        var view = Task.Run(decoded.BuildView, CancellationToken.None);
        try
        {
            var prediction = predictor.Predict([decoded.Image], ct)[0];
            string id = UploadIds.NewResultId();
            var recent = new RecentResult(id, Caller.Of(ctx), prediction, view, options.ViewMaxSide, decoded.Image);
            results.Put(recent);
            ctx.Items[AccessLogKey] = id;
            if (dicomResult != null) await DicomResults.WriteAsync(ctx, recent, dicomResult, _provenanceKey);
            else await WriteAsync(ctx, id, prediction, ct);
        }
        finally
        {
            // Failures surface (as 500) on the endpoints that read the view; here only the wait matters.
            try { await view; } catch (Exception) { }
        }
    }

    /// <summary>Where the result id is left for the access log.</summary>
    public const string AccessLogKey = "spinexr.result-id";

    private static async Task WriteAsync(HttpContext ctx, string id, ImagePrediction prediction, CancellationToken ct)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["X-Result-Id"] = id;
        ctx.Response.Headers.Location = $"/api/v1/results/{id}";
        ctx.Response.Headers.Link = $"</api/v1/overlay/{id}.png>; rel=\"overlay\", </api/v1/results/{id}>; rel=\"view\"";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, prediction, cancellationToken: ct);
        await ctx.Response.CompleteAsync();
    }
}
