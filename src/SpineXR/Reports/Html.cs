using System.Globalization;
using System.Net;
using System.Text;

namespace SpineXR.Reports;

/// <summary>Small helpers for self-contained HTML reports: escaping, embedded images, tables, one stylesheet.</summary>
public static class Html
{
    public static string Escape(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>A PNG embedded as a data URI, so the report is one file that opens anywhere.</summary>
    public static string PngDataUri(ReadOnlySpan<byte> png) => "data:image/png;base64," + Convert.ToBase64String(png);

    /// <summary>A data URI for PNG or JPEG bytes, the type read from their signature.</summary>
    public static string ImageDataUri(ReadOnlySpan<byte> image) =>
        image is [0xFF, 0xD8, ..] ? "data:image/jpeg;base64," + Convert.ToBase64String(image) : PngDataUri(image);

    public static string Pct(double fraction) =>
        double.IsNaN(fraction) ? "–" : (fraction * 100).ToString("0.00", CultureInfo.InvariantCulture);

    public static string Num(double v, string format = "0.000") =>
        double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A table from a header row and string cells (already escaped or plain text, see <paramref name="escape"/>).</summary>
    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, bool escape = true)
    {
        var sb = new StringBuilder("<table><thead><tr>");
        foreach (var h in header) sb.Append("<th>").Append(Escape(h)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in rows)
        {
            sb.Append("<tr>");
            foreach (var c in r) sb.Append("<td>").Append(escape ? Escape(c) : c).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    /// <summary>Wraps a body in a complete page with the shared stylesheet (no external resources).</summary>
    public static string Page(string title, string body) => PageStart(title) + body + PageEnd;

    /// <summary>A page's head and header up to the start of its main content; <see cref="PageEnd"/> closes it.</summary>
    public static string PageStart(string title) =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
        "<title>" + Escape(title) + "</title><style>" + Style + "</style></head><body><header><h1>" + Escape(title) +
        "</h1><p class=\"note\">Research software. Not for diagnostic use.</p></header><main>";

    public const string PageEnd = "</main></body></html>\n";

    private const string Style =
        "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:0;background:#f6f7f9;color:#1d232b}" +
        "header{background:#1f2a37;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}.note{margin:4px 0 0;opacity:.75;font-size:13px}" +
        "main{padding:16px 24px;max-width:1400px}h2{margin-top:28px;font-size:18px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}" +
        "table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:14px}th,td{border:1px solid #d5d9e0;padding:4px 10px;text-align:left}" +
        "th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}" +
        ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:14px}" +
        ".card{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px}.card img{width:100%;height:auto;display:block}" +
        ".card h3{font-size:14px;margin:6px 0;word-break:break-all}.abnormal{color:#b02020;font-weight:600}.normal{color:#208040;font-weight:600}" +
        ".plots img{max-width:480px;margin:6px;border:1px solid #d5d9e0;background:#fff}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}" +
        "ul.findings{margin:4px 0;padding-left:18px;font-size:13px}";
}
