using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SpineXR.Inference;
using SpineXR.Dicom.Web;
using SpineXR.Web.Api;
using SpineXR.Web.DicomWeb;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;
using SpineXR.Web.Viewer;

namespace SpineXR.Web;

/// <summary>
/// The HTTP API and viewer of `spinexr serve` on Kestrel: one <see cref="ISpinePredictor"/> (loaded once) behind a
/// bounded queue. Routes: POST /api/v1/predict; GET /api/v1/overlay/{id}.png, /api/v1/image/{id}.png,
/// /api/v1/results/{id}, /api/v1/results/{id}/raw, /api/v1/results/{id}/sr and /gsps (DICOM), /api/v1/health, /api/v1/models, /api/v1/openapi.json; the viewer at /.
/// STOW-RS at POST /dicomweb/studies. Errors are RFC 7807 problem+json. The predictor is not owned: dispose it after the server.
/// </summary>
public sealed class SpineServer : IAsyncDisposable
{
    private readonly PredictionQueue _queue;
    private readonly HttpClient? _destinationHttp;
    private bool _started;

    public WebApplication App { get; }
    public SpineServerOptions Options { get; }
    internal ResultCache Results { get; }

    private SpineServer(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder decoder)
    {
        Options = options.Validate();
        _queue = new PredictionQueue(options.MaxConcurrency, options.QueueLength);
        // Count bound from the options; byte bound keeps the worst case (big views) near 512 MiB.
        Results = new ResultCache(options.RecentResults, 512L * 1024 * 1024);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // Our own reader enforces the exact limit and answers 413 as problem+json; Kestrel's is a backstop.
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes + UploadReader.MultipartOverhead;
        });
        builder.Logging.ClearProviders();
        if (options.ConsoleLogging)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        App = builder.Build();

        var predict = new PredictEndpoint(options, predictor, decoder, _queue, Results);
        var results = new ResultEndpoints(Results, SpineXR.Reports.DerivedInstance.ProvenanceKey(predictor.Provenance));
        var info = new InfoEndpoints(predictor, _queue, Results);
        if (options.DicomWebDestination != null) _destinationHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var stow = new StowEndpoint(options, predictor, decoder, _queue, Results,
            _destinationHttp is null ? null : new DicomWebClient(_destinationHttp),
            options.ConsoleLogging ? App.Services.GetService<ILoggerFactory>()?.CreateLogger("SpineXR.Web.DicomWeb") : null);

        App.Use(ErrorsAsProblems);
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
        App.Map("/api/{**rest}", ctx => Problems.WriteAsync(ctx, 404, "not-found", "Not found", $"no API route {ctx.Request.Method} {ctx.Request.Path}"));
        ViewerAssets.Map(App);
    }

    /// <summary>Builds the server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="decoder">Upload decoding; null for DICOM through SpineXR.Dicom and PNG through SkiaSharp.</param>
    public static SpineServer Create(SpineServerOptions options, ISpinePredictor predictor, IUploadDecoder? decoder = null) =>
        new(options, predictor, decoder ?? DefaultUploadDecoder.Instance);

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
            // Kestrel's own limits (body size, malformed framing) keep their status.
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
            ctx.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("SpineXR.Web").LogError(e, "request {Path} failed", ctx.Request.Path);
            await Problems.WriteAsync(ctx, 500, "internal", "Internal error", e.GetType().Name + ": " + e.Message);
        }
    }

    private Task RequireApiKey(HttpContext ctx, RequestDelegate next)
    {
        if (Options.ApiKey is not { } key || !(ctx.Request.Path.StartsWithSegments("/api") || ctx.Request.Path.StartsWithSegments("/dicomweb")) ||
            ctx.Request.Path.Equals("/api/v1/health") || ctx.Request.Path.Equals("/api/v1/openapi.json"))
            return next(ctx);
        string? given = ctx.Request.Headers["X-Api-Key"];
        if (string.IsNullOrEmpty(given))
            return Problems.WriteAsync(ctx, 401, "unauthorized", "API key required", "send the key in header X-Api-Key");
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key)))
            return Problems.WriteAsync(ctx, 401, "unauthorized", "Wrong API key", "the X-Api-Key header does not match the server's key");
        return next(ctx);
    }
}
