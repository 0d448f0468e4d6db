// STOW-RS (PS3.18 10.5) as an AI node: POST /dicomweb/studies with multipart/related; type="application/dicom".
// Each instance is decoded and predicted like an upload of /api/v1/predict; "stored" means its results exist (kept
// with the recent results, and sent to the DICOMweb destination when one is configured). The answer is the STOW
// response dataset in DICOM JSON: Referenced SOP Sequence for the instances done, Failed SOP Sequence (with a
// Failure Reason code) for the rest; 200 when all were done, 202 when some failed, 409 when none was.
using Microsoft.Net.Http.Headers;
using SpineXR.Dicom;
using SpineXR.Dicom.Web;
using SpineXR.Inference;
using SpineXR.Reports;
using SpineXR.Web.Api;
using SpineXR.Web.Guards;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.DicomWeb;

/// <summary>POST /dicomweb/studies: runs the models on every instance of a STOW-RS request.</summary>
internal sealed class StowEndpoint(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder decoder,
    PredictionQueue queue, ResultCache results, DecodeBudget budget, DicomWebClient? destination, ILogger? log)
{
    private readonly ShrinkAllowance? _allowance = PredictEndpoint.AllowanceFor(predictor, options);

    /// <summary>Failure Reason "Cannot understand" (PS3.4 Annex GG): not a readable DICOM image.</summary>
    public const int CannotUnderstand = 0xC000;

    /// <summary>Failure Reason "Processing failure": the models or the sending of the results failed.</summary>
    public const int ProcessingFailure = 0x0110;

    private readonly string _provenanceKey = DerivedInstance.ProvenanceKey(predictor.Provenance);

    public async Task HandleAsync(HttpContext ctx)
    {
        var ct = ctx.RequestAborted;
        string boundary = CheckHeaders(ctx.Request);
        // Kestrel's backstop limit is sized for one upload; a STOW-RS request may carry a study.
        if (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = options.MaxStowBytes;
        using var ticket = queue.TryAdmit() ?? throw new ProblemException(503, "queue-full", "The server is busy",
            $"{queue.MaxConcurrency} requests are running and {queue.QueueLength} waiting; retry later")
        { RetryAfterSeconds = queue.RetryAfterSeconds() };
        // The body is read once running (a study can be large): waiting requests hold a connection, not their
        // bytes, so memory stays within max-concurrency x max-stow-mb.
        await ticket.WaitTurnAsync(ct);
        byte[] body = await UploadReader.ReadLimitedAsync(ctx.Request.Body, ctx.Request.ContentLength, options.MaxStowBytes, ct);

        List<(string? ContentType, ReadOnlyMemory<byte> Body)> parts;
        try { parts = MultipartRelated.Split(body, boundary); }
        catch (DicomException e) { throw new ProblemException(400, "bad-request", "Bad request", e.Message); }

        var stored = new List<(string Class, string Instance, RecentResult Result)>();
        var failed = new List<(string? Class, string? Instance, int Reason, string Why)>();
        for (int i = 0; i < parts.Count; i++)
        {
            var (type, bytes) = parts[i];
            string name = $"part {i + 1}";
            var (sopClass, sopInstance) = Identify(bytes);
            if (type != null && !type.StartsWith(DicomResults.ContentType, StringComparison.OrdinalIgnoreCase))
            {
                failed.Add((sopClass, sopInstance, CannotUnderstand, $"{name}: content type '{type}' is not application/dicom"));
                continue;
            }
            DecodedUpload decoded;
            try { decoded = decoder.Decode(bytes, UploadKind.Dicom, name, PredictEndpoint.Limits(options, _allowance, budget, ct)); }
            catch (Exception e) when (e is UnreadableUploadException or ImageTooLargeException)
            {
                failed.Add((sopClass, sopInstance, CannotUnderstand, $"{name}: {e.Message}"));
                continue;
            }
            using var reservation = decoded.Reservation;
            var view = Task.Run(decoded.BuildView, CancellationToken.None);
            try
            {
                var prediction = predictor.Predict([decoded.Image], ct)[0];
                var recent = new RecentResult(UploadIds.NewResultId(), Caller.Of(ctx), prediction, view, options.ViewMaxSide, decoded.Image);
                results.Put(recent);
                if (recent.HasDicomSource) stored.Add((sopClass!, sopInstance!, recent));
                else failed.Add((sopClass, sopInstance, CannotUnderstand, $"{name}: no SOP Class or Instance UID"));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed.Add((sopClass, sopInstance, ProcessingFailure, $"{name}: prediction failed: {e.Message}"));
            }
            finally
            {
                try { await view; } catch (Exception) { }
            }
        }

        if (destination != null && options.DicomWebDestination is { } url && stored.Count > 0)
        {
            // The SR and presentation state of every instance done, in one STOW-RS request to the destination.
            var objects = stored.SelectMany(s => new[] { s.Result.StructuredReport(_provenanceKey), s.Result.PresentationState(_provenanceKey) }).ToList();
            string? why = null;
            try
            {
                var sent = await destination.StoreAsync(url, objects, ct);
                if (sent.Failed.Count > 0) why = $"the destination refused {sent.Failed.Count} of {objects.Count} result objects (reason 0x{sent.Failed[0].Reason:X4})";
            }
            catch (DicomException e) { why = e.Message; }
            if (why != null)
            {
                log?.LogWarning("sending results to {Destination} failed: {Reason}", url, why);
                failed.AddRange(stored.Select(s => ((string?)s.Class, (string?)s.Instance, ProcessingFailure, "results not delivered: " + why)));
                stored.Clear();
            }
        }
        foreach (var f in failed) log?.LogWarning("STOW-RS instance failed: {Reason}", f.Why);

        var answer = new DicomDataset();
        // This service keeps results, not the instances: each item's Retrieve URL is its result (the SR; /gsps and the
        // JSON beside it), under the random id bound to this caller.
        string root = $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.PathBase}";
        answer.SetSequence(DicomTags.ReferencedSOPSequence, stored.Select(s => new DicomDataset()
            .SetString(DicomTags.ReferencedSOPClassUID, DicomVR.UI, s.Class)
            .SetString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, s.Instance)
            .SetString(DicomTags.RetrieveURL, DicomVR.UR, $"{root}/api/v1/results/{s.Result.Id}/sr")).ToArray());
        if (failed.Count > 0)
            answer.SetSequence(DicomTags.FailedSOPSequence, failed.Select(f =>
            {
                var item = new DicomDataset();
                if (f.Class != null) item.SetString(DicomTags.ReferencedSOPClassUID, DicomVR.UI, f.Class);
                if (f.Instance != null) item.SetString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, f.Instance);
                return item.SetInts(DicomTags.FailureReason, DicomVR.US, f.Reason);
            }).ToArray());
        ctx.Response.StatusCode = failed.Count == 0 ? 200 : stored.Count > 0 ? 202 : 409;
        ctx.Response.ContentType = DicomJson.MediaType;
        ctx.Response.Headers.CacheControl = "no-store";
        // Failure reasons in words (the dataset carries codes only), one header per failed instance.
        foreach (var f in failed.Take(32)) ctx.Response.Headers.Append("Warning", $"299 spinexr \"{f.Why.Replace('"', '\'').ReplaceLineEndings(" ")}\"");
        await ctx.Response.WriteAsync(DicomJson.Serialize(answer), ct);
    }

    /// <summary>SOP Class and Instance UID from the header, when the part is readable that far.</summary>
    private static (string? Class, string? Instance) Identify(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            var ds = DicomFile.Read(bytes, DicomReadOptions.HeaderOnly).Dataset;
            string? cls = ds.GetString(DicomTags.SOPClassUID), inst = ds.GetString(DicomTags.SOPInstanceUID);
            return (string.IsNullOrEmpty(cls) ? null : cls, string.IsNullOrEmpty(inst) ? null : inst);
        }
        catch (DicomException) { return (null, null); }
    }

    /// <summary>multipart/related whose type is application/dicom (415 otherwise), with a boundary (400 without).</summary>
    private string CheckHeaders(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mt) || !mt.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase))
            throw ProblemException.Unsupported("STOW-RS takes multipart/related; type=\"application/dicom\"");
        var type = mt.Parameters.FirstOrDefault(p => p.Name.Equals("type", StringComparison.OrdinalIgnoreCase));
        if (type != null && !HeaderUtilities.RemoveQuotes(type.Value).Equals(DicomResults.ContentType, StringComparison.OrdinalIgnoreCase))
            throw ProblemException.Unsupported($"multipart/related of type '{HeaderUtilities.RemoveQuotes(type.Value)}'; this service stores application/dicom");
        string? boundary = HeaderUtilities.RemoveQuotes(mt.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 200) throw new ProblemException(400, "bad-request", "Bad request", "multipart/related without a valid boundary");
        if (request.ContentLength > options.MaxStowBytes) throw ProblemException.TooLarge(options.MaxStowBytes);
        return boundary;
    }
}
