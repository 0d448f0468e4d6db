using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineXR.Data;
using SpineXR.Inference;
using SpineXR.Reports;
using SpineXR.Web.Results;

namespace SpineXR.Web.Api;

/// <summary>GET /api/v1/health, /api/v1/models (provenance and classes with their colours), /api/v1/openapi.json.</summary>
internal sealed class InfoEndpoints(ISpinePredictor predictor, PredictionQueue queue, ResultCache results)
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public Task HealthAsync(HttpContext ctx) => WriteJsonAsync(ctx, new Dictionary<string, object>
    {
        ["status"] = "ok",
        ["running"] = queue.Running,
        ["waiting"] = queue.Waiting,
        ["max_concurrency"] = queue.MaxConcurrency,
        ["queue_length"] = queue.QueueLength,
        ["recent_results"] = results.Count,
        ["uptime_s"] = Math.Round(Stopwatch.GetElapsedTime(_started).TotalSeconds, 1),
    });

    public Task ModelsAsync(HttpContext ctx)
    {
        var node = JsonSerializer.SerializeToNode(predictor.Provenance)!.AsObject();
        var classes = new JsonArray();
        for (int i = 0; i < LesionTaxonomy.Classes.Count; i++)
            classes.Add(new JsonObject { ["id"] = i, ["name"] = LesionTaxonomy.Classes[i], ["color"] = ClassColors.Hex(i) });
        node["classes"] = classes;
        return WriteJsonAsync(ctx, node);
    }

    public async Task OpenApiAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "application/json";
        await ctx.Response.Body.WriteAsync(OpenApiDocument.Value, ctx.RequestAborted);
    }

    internal static readonly Lazy<byte[]> OpenApiDocument = new(() => EmbeddedAssets.Read("api/openapi.json"));

    private static async Task WriteJsonAsync(HttpContext ctx, object body)
    {
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, body.GetType(), cancellationToken: ctx.RequestAborted);
    }
}

/// <summary>Resources compiled into SpineXR.Web (viewer files, OpenAPI document).</summary>
internal static class EmbeddedAssets
{
    public static byte[] Read(string logicalName)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(logicalName)
            ?? throw new InvalidOperationException($"embedded resource {logicalName} missing from SpineXR.Web");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
