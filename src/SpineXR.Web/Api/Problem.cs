using System.Text.Encodings.Web;
using System.Text.Json;

namespace SpineXR.Web.Api;

/// <summary>An RFC 7807 problem: the one error shape of the API (type is a stable URN, detail the reason).</summary>
public sealed class ProblemException(int status, string slug, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Slug { get; } = slug;
    public string Title { get; } = title;
    public int? RetryAfterSeconds { get; init; }

    public static ProblemException BadRequest(string detail) => new(400, "unreadable-image", "The upload could not be read", detail);
    public static ProblemException TooLarge(long limit) =>
        new(413, "payload-too-large", "The upload is too large", $"uploads are limited to {limit / (1024 * 1024)} MiB ({limit} bytes)");
    public static ProblemException Unsupported(string detail) => new(415, "unsupported-media-type", "Unsupported content type", detail);
    public static ProblemException NotFound(string detail) => new(404, "not-found", "Not found", detail);
}

/// <summary>Writes problem+json responses.</summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    // Reasons quote names ('text/plain'); a JSON response needs no HTML-safe escaping of them.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext ctx, int status, string slug, string title, string detail, int? retryAfter = null)
    {
        if (ctx.Response.HasStarted) return;
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = ContentType;
        ctx.Response.Headers.CacheControl = "no-store";
        if (retryAfter is { } s) ctx.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var body = new Dictionary<string, object?>
        {
            ["type"] = "urn:spinexr:problem:" + slug,
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
            ["instance"] = ctx.Request.Path.Value,
        };
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, Json, ctx.RequestAborted);
    }

    public static Task WriteAsync(HttpContext ctx, ProblemException p) =>
        WriteAsync(ctx, p.Status, p.Slug, p.Title, p.Message, p.RetryAfterSeconds);
}
