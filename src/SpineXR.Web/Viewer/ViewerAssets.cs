using SpineXR.Web.Api;

namespace SpineXR.Web.Viewer;

/// <summary>
/// The viewer page (plain HTML, JS and canvas, embedded in the assembly). A strict Content-Security-Policy
/// keeps it to this origin: no external script, style, font or image can load.
/// </summary>
internal static class ViewerAssets
{
    private const string Csp = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

    private static readonly (string Route, string Resource, string Type)[] Files =
    [
        ("/", "viewer/index.html", "text/html; charset=utf-8"),
        ("/viewer.js", "viewer/viewer.js", "text/javascript; charset=utf-8"),
        ("/viewer.css", "viewer/viewer.css", "text/css; charset=utf-8"),
    ];

    public static void Map(WebApplication app)
    {
        foreach (var (route, resource, type) in Files)
        {
            var bytes = EmbeddedAssets.Read(resource);
            app.MapGet(route, async ctx =>
            {
                ctx.Response.ContentType = type;
                ctx.Response.Headers.ContentSecurityPolicy = Csp;
                ctx.Response.Headers.XContentTypeOptions = "nosniff";
                ctx.Response.Headers.CacheControl = "no-cache";
                ctx.Response.ContentLength = bytes.Length;
                await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
            });
        }
    }
}
