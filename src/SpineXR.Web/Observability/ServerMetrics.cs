using Prometheus;
using SpineXR.Web.Api;
using SpineXR.Web.Guards;

namespace SpineXR.Web.Observability;

/// <summary>
/// GET /metrics in the Prometheus text format, through prometheus-net with a registry of this server's own (so
/// several servers in one process do not share counters): requests by route and status, a latency histogram by
/// route, and gauges read at scrape time (queue waiting, predictions running, uploads in flight, decode budget).
/// </summary>
public sealed class ServerMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    internal ServerMetrics(PredictionQueue queue, ClientGate clients, DecodeBudget budget)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = f.CreateCounter("spinexr_http_requests_total", "HTTP requests answered, by route and status.",
            new CounterConfiguration { LabelNames = ["route", "status"] });
        _duration = f.CreateHistogram("spinexr_http_request_duration_seconds", "Time from request to the end of the response, by route.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        var waiting = f.CreateGauge("spinexr_queue_waiting", "Predictions admitted and waiting for a running slot.");
        var running = f.CreateGauge("spinexr_predictions_running", "Predictions holding a running slot (decode and models).");
        var inFlight = f.CreateGauge("spinexr_uploads_in_flight", "Prediction requests in flight, from admission to answer.");
        var decodeBytes = f.CreateGauge("spinexr_decode_budget_bytes_in_use", "Bytes of the decode budget reserved now.");
        f.CreateGauge("spinexr_decode_budget_bytes", "The decode budget.").Set(budget.Capacity);
        Registry.AddBeforeCollectCallback(() =>
        {
            waiting.Set(queue.Waiting);
            running.Set(queue.Running);
            inFlight.Set(clients.InFlight);
            decodeBytes.Set(budget.InUse);
        });
    }

    /// <summary>Counts one answered request; <paramref name="route"/> is the route template, never the raw path.</summary>
    public void Observe(string route, int status, double seconds)
    {
        _requests.WithLabels(route, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _duration.WithLabels(route).Observe(seconds);
    }

    public async Task WriteAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store";
        await Registry.CollectAndExportAsTextAsync(ctx.Response.Body, ctx.RequestAborted);
    }
}
