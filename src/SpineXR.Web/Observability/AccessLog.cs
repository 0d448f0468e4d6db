using System.Text.Json;

namespace SpineXR.Web.Observability;

/// <summary>
/// One JSON line per request: time (UTC), caller (remote address and key fingerprint), method, route template,
/// status, bytes in and out, duration, and the result id when one was made or read. No file names, paths with
/// identifiers other than result ids, or header values: nothing of the patient reaches the log.
/// </summary>
public sealed class AccessLog(TextWriter writer)
{
    private readonly Lock _lock = new();

    public sealed record Entry(
        DateTimeOffset Time, string Caller, string Method, string Route, int Status, long BytesIn, long BytesOut, double DurationMs, string? ResultId);

    public void Write(Entry e)
    {
        var line = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["time"] = e.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
            ["caller"] = e.Caller,
            ["method"] = e.Method,
            ["route"] = e.Route,
            ["status"] = e.Status,
            ["bytes_in"] = e.BytesIn,
            ["bytes_out"] = e.BytesOut,
            ["duration_ms"] = Math.Round(e.DurationMs, 1),
            ["result_id"] = e.ResultId,
        });
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }
}
