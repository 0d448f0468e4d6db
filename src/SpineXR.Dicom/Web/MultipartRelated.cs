// multipart/related bodies as DICOMweb uses them (RFC 2387; PS3.18 8.6.1.2): STOW-RS requests and WADO-RS answers,
// one application/dicom Part 10 file per part.
using System.Text;

namespace SpineXR.Dicom.Web;

/// <summary>Builds and splits multipart/related bodies of DICOM parts.</summary>
public static class MultipartRelated
{
    /// <summary>The Content-Type of a body built by <see cref="Build"/>.</summary>
    public static string ContentType(string boundary, string partType = "application/dicom") =>
        $"multipart/related; type=\"{partType}\"; boundary={boundary}";

    /// <summary>A fresh boundary (no characters that need quoting).</summary>
    public static string NewBoundary() => "spinexr-" + Guid.NewGuid().ToString("N");

    /// <summary>The body: each part with its Content-Type, CRLF framing, closing delimiter.</summary>
    public static byte[] Build(string boundary, IEnumerable<byte[]> parts, string partType = "application/dicom")
    {
        var ms = new MemoryStream();
        byte[] head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: {partType}\r\n\r\n");
        foreach (var p in parts)
        {
            ms.Write(head);
            ms.Write(p);
            ms.Write("\r\n"u8);
        }
        ms.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return ms.ToArray();
    }

    /// <summary>
    /// The parts of a multipart body (their bytes, without headers). Malformed framing is a
    /// <see cref="DicomException"/>; parts are slices of <paramref name="body"/>.
    /// </summary>
    public static List<(string? ContentType, ReadOnlyMemory<byte> Body)> Split(ReadOnlyMemory<byte> body, string boundary)
    {
        var span = body.Span;
        byte[] delimiter = Encoding.ASCII.GetBytes("--" + boundary), lineDelimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        var parts = new List<(string?, ReadOnlyMemory<byte>)>();
        int at = span.IndexOf(delimiter);
        if (at < 0) throw new DicomException("multipart body has no boundary delimiter");
        while (true)
        {
            int after = at + delimiter.Length;
            if (span.Length - after >= 2 && span[after] == '-' && span[after + 1] == '-') return parts; // closing delimiter
            int headersStart = span[after..].IndexOf("\r\n"u8);
            if (headersStart < 0) throw new DicomException("multipart part has no header line");
            headersStart += after + 2;
            int headersEnd = span[headersStart..].IndexOf("\r\n\r\n"u8);
            string? contentType = null;
            int bodyStart;
            if (span[headersStart..].StartsWith("\r\n"u8)) bodyStart = headersStart + 2; // no headers
            else
            {
                if (headersEnd < 0) throw new DicomException("multipart part headers do not end");
                foreach (var line in Encoding.ASCII.GetString(span.Slice(headersStart, headersEnd)).Split("\r\n"))
                    if (line.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase)) contentType = line[13..].Trim();
                bodyStart = headersStart + headersEnd + 4;
            }
            // The part ends at CRLF + delimiter (RFC 2046 5.1.1): the CRLF belongs to the delimiter, not the part.
            int next = span[bodyStart..].IndexOf(lineDelimiter);
            if (next < 0) throw new DicomException("multipart body is not closed by its boundary");
            next += bodyStart;
            parts.Add((contentType, body[bodyStart..next]));
            at = next + 2;
        }
    }
}
