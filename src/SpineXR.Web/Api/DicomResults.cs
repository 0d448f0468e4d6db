using SpineXR.Web.Results;

namespace SpineXR.Web.Api;

/// <summary>
/// The DICOM forms of a result, asked of POST /api/v1/predict (`Accept: application/dicom`, or `?result=sr|gsps`) or
/// fetched later from /api/v1/results/{id}/sr and /gsps: the TID 1500 SR and the presentation state `spinexr predict
/// --dicom-sr --gsps` writes, as application/dicom Part 10 files.
/// </summary>
internal static class DicomResults
{
    public const string ContentType = "application/dicom";

    /// <summary>
    /// What the request asks for: "sr", "gsps", or null for the JSON answer. `?result=` decides when given (json, sr or
    /// gsps; anything else is 400); else an Accept header naming application/dicom asks for the SR.
    /// </summary>
    public static string? Requested(HttpRequest request)
    {
        string? asked = request.Query["result"];
        if (!string.IsNullOrEmpty(asked))
            return asked.ToLowerInvariant() switch
            {
                "json" => null,
                "sr" => "sr",
                "gsps" => "gsps",
                _ => throw new ProblemException(400, "bad-request", "Bad request", $"result must be json, sr or gsps, not '{asked}'"),
            };
        // application/dicom itself, not application/dicom+json (or */*)
        return Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
               && accepted.Any(a => a.MediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase)) ? "sr" : null;
    }

    /// <summary>Writes the SR or presentation state of <paramref name="r"/>; 406 when the upload was not DICOM.</summary>
    public static async Task WriteAsync(HttpContext ctx, RecentResult r, string kind, string provenanceKey)
    {
        if (!r.HasDicomSource)
            throw new ProblemException(406, "no-dicom-source", "No DICOM result for this upload",
                $"an {(kind == "sr" ? "SR" : "presentation state")} references a DICOM image; result {r.Id} came from a PNG");
        byte[] bytes = kind == "sr" ? r.StructuredReport(provenanceKey) : r.PresentationState(provenanceKey);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = ContentType;
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["X-Result-Id"] = r.Id;
        ctx.Response.Headers.ContentDisposition = $"attachment; filename=\"{kind}-{r.Id}.dcm\"";
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }
}
