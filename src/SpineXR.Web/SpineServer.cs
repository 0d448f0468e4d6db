using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.HostFiltering;
using SpineXR.Inference;
using SpineXR.Dicom.Web;
using SpineXR.Web.Api;
using SpineXR.Web.DicomWeb;
using SpineXR.Web.Guards;
using SpineXR.Web.Observability;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;
using SpineXR.Web.Viewer;

namespace SpineXR.Web;

/// <summary>
/// The HTTP API and viewer of `spinexr serve` on Kestrel: one <see cref="ISpinePredictor"/> (loaded once) behind
/// per-client admission, a bounded queue and a decode budget. Routes: POST /api/v1/predict; GET
/// /api/v1/overlay/{id}.png, /api/v1/image/{id}.png, /api/v1/results/{id}, /api/v1/results/{id}/raw,
/// /api/v1/results/{id}/sr and /gsps (DICOM), /api/v1/health, /api/v1/models, /api/v1/openapi.json, /metrics; the
/// viewer at /. STOW-RS at POST /dicomweb/studies. Errors are RFC 7807 problem+json. The predictor is not owned:
/// dispose it after the server.
/// </summary>
public sealed class SpineServer : IAsyncDisposable
{
    private readonly PredictionQueue _queue;
    private readonly HttpClient? _destinationHttp;
    private readonly byte[]? _keyDigest;
    private readonly AccessLog? _accessLog;
    private bool _started;

    public WebApplication App { get; }
    public SpineServerOptions Options { get; }
    internal ResultCache Results { get; }
    internal DecodeBudget Budget { get; }
    internal ClientGate Clients { get; }
    public ServerMetrics Metrics { get; }

    private SpineServer(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder decoder, TextWriter? accessLog)
    {
        Options = options.Validate();
        _queue = new PredictionQueue(options.MaxConcurrency, options.QueueLength);
        // Count bound from the options; byte bound keeps the worst case (big views) near 512 MiB.
        Results = new ResultCache(options.RecentResults, 512L * 1024 * 1024);
        Budget = new DecodeBudget(options.DecodeBudgetBytes);
        Clients = new ClientGate(options.MaxRequestsPerClient, options.MaxRequestsInFlight);
        Metrics = new ServerMetrics(_queue, Clients, Budget);
        // Only the key's digest is kept, and compared in fixed time with the digest of what a client sends.
        _keyDigest = options.ApiKey is { } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;
        _accessLog = accessLog is null ? null : new AccessLog(accessLog);

        // Loaded here, so a bad pair fails Create with one line rather than Kestrel's start.
        var certificate = options.CertificatePath is { } certPath ? LoadCertificate(certPath, options.CertificateKeyPath!) : null;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Urls);
        if (certificate is not null) builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves https out
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // Our own reader enforces the exact limit and answers 413 as problem+json; Kestrel's is a backstop.
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes + UploadReader.MultipartOverhead;
            // A trickling sender is cut off by Kestrel (after a grace period) as well as by the body deadline.
            k.Limits.MinRequestBodyDataRate = options.MinUploadBytesPerSecond > 0
                ? new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(options.MinUploadBytesPerSecond, TimeSpan.FromSeconds(5)) : null;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            if (certificate is not null) k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate);
        });
        builder.Services.Configure<HostFilteringOptions>(o =>
        {
            o.AllowedHosts = [.. options.HostsAllowed];
            o.AllowEmptyHosts = false;
        });
        builder.Logging.ClearProviders();
        if (options.ConsoleLogging)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        App = builder.Build();

        var predict = new PredictEndpoint(options, predictor, decoder, _queue, Results, Clients, Budget);
        var results = new ResultEndpoints(Results, SpineXR.Reports.DerivedInstance.ProvenanceKey(predictor.Provenance));
        var info = new InfoEndpoints(predictor, _queue, Results);
        if (options.DicomWebDestination != null) _destinationHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var stow = new StowEndpoint(options, predictor, decoder, _queue, Results, Budget,
            _destinationHttp is null ? null : new DicomWebClient(_destinationHttp),
            options.ConsoleLogging ? App.Services.GetService<ILoggerFactory>()?.CreateLogger("SpineXR.Web.DicomWeb") : null);

        App.Use(Observe);
        App.Use(SecurityHeaders);
        App.UseHostFiltering();
        App.Use(ErrorsAsProblems);
        App.Use(RejectCrossSite);
        App.Use(RequireApiKey);
        App.MapPost("/api/v1/predict", predict.HandleAsync);
        App.MapGet("/api/v1/overlay/{id}.png", results.OverlayAsync);
        App.MapGet("/api/v1/image/{id}.png", results.ImageAsync);
        App.MapGet("/api/v1/results/{id}", results.MetaAsync);
        App.MapGet("/api/v1/results/{id}/raw", results.RawAsync);
        App.MapGet("/api/v1/results/{id}/sr", results.StructuredReportAsync);
        App.MapGet("/api/v1/results/{id}/gsps", results.PresentationStateAsync);
        App.MapGet("/api/v1/health", info.HealthAsync);
        App.MapGet("/api/v1/models", info.ModelsAsync);
        App.MapGet("/api/v1/openapi.json", info.OpenApiAsync);
        App.MapPost("/dicomweb/studies", stow.HandleAsync);
        App.Map("/dicomweb/{**rest}", ctx => Problems.WriteAsync(ctx, 404, "not-found", "Not found",
            $"this DICOMweb service takes STOW-RS (POST /dicomweb/studies) only, not {ctx.Request.Method} {ctx.Request.Path}"));
        App.MapGet("/metrics", Metrics.WriteAsync);
        App.Map("/api/{**rest}", ctx => Problems.WriteAsync(ctx, 404, "not-found", "Not found", $"no API route {ctx.Request.Method} {ctx.Request.Path}"));
        ViewerAssets.Map(App);
    }

    /// <summary>A PEM certificate and key; a bad pair is an <see cref="ArgumentException"/> naming the files, in one line.</summary>
    internal static System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCertificate(string certPath, string keyPath)
    {
        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certPath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or ArgumentException)
        {
            throw new ArgumentException($"cannot load the certificate '{certPath}' with key '{keyPath}': {e.Message.ReplaceLineEndings(" ")}", nameof(SpineServerOptions.CertificatePath));
        }
    }

    /// <summary>Builds the server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="decoder">Upload decoding; null for DICOM through SpineXR.Dicom and PNG through SkiaSharp.</param>
    /// <param name="accessLog">Where the JSON-lines access log goes; null for none.</param>
    public static SpineServer Create(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder? decoder = null, TextWriter? accessLog = null) =>
        new(options, predictor, decoder ?? DefaultUploadDecoder.Instance, accessLog);

    /// <summary>Starts listening; <see cref="Addresses"/> then holds the bound addresses (real ports for port 0).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await App.StartAsync(cancellationToken);
        _started = true;
    }

    /// <summary>The addresses Kestrel is listening on.</summary>
    public IReadOnlyList<string> Addresses =>
        App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Runs until <paramref name="stop"/> fires (Ctrl+C in `spinexr serve`).</summary>
    public async Task RunUntilAsync(CancellationToken stop)
    {
        if (!_started) await StartAsync(stop);
        try { await Task.Delay(Timeout.Infinite, stop); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (_started) await App.StopAsync();
        await App.DisposeAsync();
        _queue.Dispose();
        _destinationHttp?.Dispose();
        Results.Clear();
    }

    /// <summary>Metrics and the access log for every request, whatever answered it.</summary>
    private async Task Observe(HttpContext ctx, RequestDelegate next)
    {
        long start = Stopwatch.GetTimestamp();
        var inCount = new CountingStream(ctx.Request.Body);
        var outCount = new CountingStream(ctx.Response.Body);
        var originalOut = ctx.Response.Body;
        ctx.Request.Body = inCount;
        ctx.Response.Body = outCount;
        try
        {
            await next(ctx);
        }
        finally
        {
            ctx.Response.Body = originalOut;
            var elapsed = Stopwatch.GetElapsedTime(start);
            string route = (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? (ctx.Request.Path.StartsWithSegments("/api") ? "/api/other" : "other");
            int status = ctx.RequestAborted.IsCancellationRequested && !ctx.Response.HasStarted ? 499 : ctx.Response.StatusCode;
            Metrics.Observe(route, status, elapsed.TotalSeconds);
            string? id = ctx.Items[PredictEndpoint.AccessLogKey] as string
                         ?? (ctx.Request.RouteValues["id"] is string rid && UploadIds.IsResultId(rid) ? rid : null);
            _accessLog?.Write(new AccessLog.Entry(DateTimeOffset.UtcNow, Caller.Of(ctx), ctx.Request.Method, route, status,
                inCount.Count, outCount.Count, elapsed.TotalMilliseconds, id));
        }
    }

    /// <summary>nosniff on every response (set when it starts, so error paths that clear the headers keep it).</summary>
    private static Task SecurityHeaders(HttpContext ctx, RequestDelegate next)
    {
        ctx.Response.OnStarting(() =>
        {
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            return Task.CompletedTask;
        });
        return next(ctx);
    }

    private static async Task ErrorsAsProblems(HttpContext ctx, RequestDelegate next)
    {
        try
        {
            await next(ctx);
        }
        catch (ProblemException p)
        {
            await Problems.WriteAsync(ctx, p);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits (body size, data rate, malformed framing) keep their status.
            if (e.StatusCode == 413) await Problems.WriteAsync(ctx, 413, "payload-too-large", "The upload is too large", e.Message);
            else await Problems.WriteAsync(ctx, e.StatusCode, "bad-request", "Bad request", e.Message);
        }
        catch (InvalidDataException e)
        {
            // Malformed multipart framing (boundary, headers too long) from MultipartReader.
            await Problems.WriteAsync(ctx, 400, "bad-request", "Bad request", e.Message);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception e)
        {
            // The log gets the exception; the client only a reference to it, never its type or message.
            ctx.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("SpineXR.Web").LogError(e, "request {Trace} {Path} failed", ctx.TraceIdentifier, ctx.Request.Path);
            await Problems.WriteAsync(ctx, 500, "internal", "Internal error", $"the server failed on this request; its log names it as {ctx.TraceIdentifier}");
        }
    }

    /// <summary>
    /// Refuses state-changing requests a browser sends on behalf of another site: Sec-Fetch-Site other than
    /// same-origin or none, or an Origin whose host differs from Host. Clients that send neither (curl, scripts) pass.
    /// </summary>
    private static Task RejectCrossSite(HttpContext ctx, RequestDelegate next)
    {
        if (HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method) || HttpMethods.IsOptions(ctx.Request.Method))
            return next(ctx);
        string? site = ctx.Request.Headers["Sec-Fetch-Site"];
        if (!string.IsNullOrEmpty(site) && site is not ("same-origin" or "none"))
            throw new ProblemException(403, "cross-site", "Cross-site request refused", $"Sec-Fetch-Site is '{site}'; the API takes uploads from its own page or from non-browser clients only");
        string? origin = ctx.Request.Headers.Origin;
        if (!string.IsNullOrEmpty(origin) && !SameOrigin(origin, ctx.Request))
            throw new ProblemException(403, "cross-site", "Cross-site request refused", "the Origin header names another site");
        return next(ctx);
    }

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o) &&
        string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(o.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase);

    private Task RequireApiKey(HttpContext ctx, RequestDelegate next)
    {
        bool guarded = ctx.Request.Path.StartsWithSegments("/api") || ctx.Request.Path.StartsWithSegments("/dicomweb") ||
                       ctx.Request.Path.StartsWithSegments("/metrics");
        if (_keyDigest is null || !guarded ||
            ctx.Request.Path.Equals("/api/v1/health") || ctx.Request.Path.Equals("/api/v1/openapi.json"))
            return next(ctx);
        string? given = ctx.Request.Headers["X-Api-Key"];
        if (string.IsNullOrEmpty(given))
            return Problems.WriteAsync(ctx, 401, "unauthorized", "API key required", "send the key in header X-Api-Key");
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _keyDigest))
            return Problems.WriteAsync(ctx, 401, "unauthorized", "Wrong API key", "the X-Api-Key header does not match the server's key");
        return next(ctx);
    }
}
