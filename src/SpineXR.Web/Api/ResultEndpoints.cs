using System.Runtime.InteropServices;
using System.Text.Json;
using SkiaSharp;
using SpineXR.Inference;
using SpineXR.Reports;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Api;

/// <summary>
/// Endpoints over recent results (kept in a bounded LRU, so an old id gives 404):
/// the overlay PNG, the reference 8-bit image PNG, the view metadata with the prediction, and the 16-bit
/// raw view the viewer windows itself.
/// </summary>
internal sealed class ResultEndpoints(ResultCache results, string provenanceKey)
{
    private RecentResult Find(HttpContext ctx)
    {
        string id = ctx.Request.RouteValues["id"] as string ?? "";
        // Unknown, dropped and someone else's look the same: nothing tells a caller that an id exists.
        var r = UploadIds.IsResultId(id) ? results.Get(id, Guards.Caller.Of(ctx)) : null;
        return r ?? throw ProblemException.NotFound("no recent result with this id for this caller (results are kept for the last few uploads only)");
    }

    public async Task OverlayAsync(HttpContext ctx)
    {
        var r = Find(ctx);
        await WritePngAsync(ctx, r.OverlayPng(await r.View, RenderOverlay));
    }

    public async Task ImageAsync(HttpContext ctx)
    {
        var r = Find(ctx);
        await WritePngAsync(ctx, r.ImagePng(await r.View, RenderImage));
    }

    /// <summary>The result's DICOM SR (TID 1500), application/dicom.</summary>
    public Task StructuredReportAsync(HttpContext ctx) => DicomResults.WriteAsync(ctx, Find(ctx), "sr", provenanceKey);

    /// <summary>The result's Grayscale Softcopy Presentation State, application/dicom.</summary>
    public Task PresentationStateAsync(HttpContext ctx) => DicomResults.WriteAsync(ctx, Find(ctx), "gsps", provenanceKey);

    public async Task MetaAsync(HttpContext ctx)
    {
        var r = Find(ctx);
        var v = await r.View;
        var body = new Dictionary<string, object?>
        {
            ["id"] = r.Id,
            ["width"] = v.OriginalWidth,
            ["height"] = v.OriginalHeight,
            ["view_width"] = v.Width,
            ["view_height"] = v.Height,
            ["raw_slope"] = v.Slope,
            ["raw_intercept"] = v.Intercept,
            ["window_center"] = v.WindowCenter,
            ["window_width"] = v.WindowWidth,
            ["invert"] = v.Invert,
            ["raw_url"] = $"/api/v1/results/{r.Id}/raw",
            ["image_url"] = $"/api/v1/image/{r.Id}.png",
            ["overlay_url"] = $"/api/v1/overlay/{r.Id}.png",
            ["prediction"] = r.Prediction,
        };
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, cancellationToken: ctx.RequestAborted);
    }

    /// <summary>view_width x view_height unsigned 16-bit little-endian samples, row-major; value = raw_intercept + raw_slope * sample.</summary>
    public async Task RawAsync(HttpContext ctx)
    {
        var r = Find(ctx);
        var v = await r.View;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("raw view needs a little-endian host");
        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["X-View-Width"] = v.Width.ToString(System.Globalization.CultureInfo.InvariantCulture);
        ctx.Response.Headers["X-View-Height"] = v.Height.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bytes = MemoryMarshal.AsBytes(v.Raw.AsSpan()).ToArray();
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }

    private static async Task WritePngAsync(HttpContext ctx, byte[] png)
    {
        ctx.Response.ContentType = "image/png";
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.ContentLength = png.Length;
        await ctx.Response.Body.WriteAsync(png, ctx.RequestAborted);
    }

    internal static byte[] RenderOverlay(RecentResult r, ImageView v)
    {
        var p = r.Prediction;
        float s = (float)v.Scale;
        var boxes = p.Boxes.Select(b => b with { Xyxy = [b.Xyxy[0] * s, b.Xyxy[1] * s, b.Xyxy[2] * s, b.Xyxy[3] * s] }).ToList();
        bool abnormal = p.Verdict == "abnormal";
        string banner = $"{p.Verdict} · P(abnormal) = {p.AbnormalProbability.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)} · {p.Boxes.Count} box(es)";
        return OverlayRenderer.RenderPng(v.Gray8, v.Width, v.Height, boxes, banner, abnormal, Math.Max(v.Width, v.Height));
    }

    internal static byte[] RenderImage(ImageView v)
    {
        using var bmp = new SKBitmap(new SKImageInfo(v.Width, v.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        v.Gray8.AsSpan().CopyTo(bmp.GetPixelSpan());
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
