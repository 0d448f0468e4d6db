using System.Text.Json;
using SpineXR.Inference;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Api;

/// <summary>
/// POST /api/v1/predict: admit (or 503) -> read the upload into memory (413, 415) -> wait for a running slot ->
/// decode (400 with the reader's reason) -> predict -> keep the view for the overlay endpoints -> the same
/// per-image JSON as `spinexr predict`.
/// </summary>
internal sealed class PredictEndpoint(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder decoder,
    PredictionQueue queue, ResultCache results)
{
    private readonly string _provenanceKey = SpineXR.Reports.DerivedInstance.ProvenanceKey(predictor.Provenance);

    public async Task HandleAsync(HttpContext ctx)
    {
        var ct = ctx.RequestAborted;
        var (kind, boundary) = UploadReader.CheckHeaders(ctx.Request, options.MaxUploadBytes);
        string? dicomResult = DicomResults.Requested(ctx.Request); // a bad ?result= is refused before the upload is read

        // Admission before the body is read: a full server costs a refused client nothing but the headers.
        using var ticket = queue.TryAdmit() ?? throw new ProblemException(503, "queue-full", "The server is busy",
            $"{queue.MaxConcurrency} predictions are running and {queue.QueueLength} waiting; retry later")
        { RetryAfterSeconds = queue.RetryAfterSeconds() };

        UploadReader.Upload? upload = await UploadReader.ReadAsync(ctx.Request, kind, boundary, options.MaxUploadBytes, ct);
        await ticket.WaitTurnAsync(ct);

        DecodedUpload decoded;
        try
        {
            decoded = decoder.Decode(upload!.Bytes, upload.Kind, upload.FileName, options.ViewMaxSide);
            // As `spinexr predict`: a named file's stem is its image id (VinDr layout: <image_id>.dicom).
            if (upload.Named && Path.GetFileNameWithoutExtension(upload.FileName) is { Length: > 0 } stem)
                decoded = decoded with { Image = decoded.Image with { ImageId = stem } };
        }
        catch (UnreadableUploadException e)
        {
            throw ProblemException.BadRequest($"{upload.FileName}: {e.Message}");
        }
        upload = null; // the encoded bytes are no longer needed while the models run

        // The viewer's copy is built on another core while the models run; the answer does not wait for it, but the
        // running slot is held until it is done, so full-size buffers never outnumber the slots.
        var view = Task.Run(decoded.BuildView, CancellationToken.None);
        try
        {
            var prediction = predictor.Predict([decoded.Image], ct)[0];
            string id = decoded.ResultId;
            var recent = new RecentResult(id, prediction, view, options.ViewMaxSide, decoded.Image);
            results.Put(recent);
            if (dicomResult != null) await DicomResults.WriteAsync(ctx, recent, dicomResult, _provenanceKey);
            else await WriteAsync(ctx, id, prediction, ct);
        }
        finally
        {
            // Failures surface (as 500) on the endpoints that read the view; here only the wait matters.
            try { await view; } catch (Exception) { }
        }
    }

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
