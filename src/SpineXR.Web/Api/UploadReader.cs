using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Api;

/// <summary>
/// Reads the upload of POST /api/v1/predict into memory, never to disk: a raw body (application/dicom, image/png)
/// or the first file part of multipart/form-data. Enforces the size limit while reading, whatever
/// Content-Length claims, so a chunked body cannot exceed it either.
/// </summary>
public static class UploadReader
{
    /// <summary>Room for multipart boundaries and part headers around the file itself.</summary>
    public const long MultipartOverhead = 64 * 1024;

    /// <param name="Named">True when the client named the file (multipart); the name's stem is then the image id, as in `spinexr predict`.</param>
    public sealed record Upload(byte[] Bytes, UploadKind Kind, string FileName, bool Named = false);

    /// <summary>Checks the content type and declared length before anything is read (415, 413).</summary>
    public static (UploadKind? Kind, string? Boundary) CheckHeaders(HttpRequest request, long limit)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mt) || mt.MediaType.Value is not { } type)
            throw ProblemException.Unsupported("send the image with Content-Type application/dicom or image/png, or as a multipart/form-data file");
        UploadKind? kind = KindOf(type);
        string? boundary = null;
        if (kind == null)
        {
            if (!type.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
                throw ProblemException.Unsupported($"content type '{type}' is not accepted; use application/dicom, image/png or multipart/form-data");
            boundary = HeaderUtilities.RemoveQuotes(mt.Boundary).Value;
            if (string.IsNullOrEmpty(boundary) || boundary.Length > 200)
                throw ProblemException.BadRequest("multipart/form-data without a valid boundary");
        }
        long allowed = kind == null ? limit + MultipartOverhead : limit;
        if (request.ContentLength > allowed) throw ProblemException.TooLarge(limit);
        return (kind, boundary);
    }

    public static async Task<Upload> ReadAsync(HttpRequest request, UploadKind? kind, string? boundary, long limit, CancellationToken ct)
    {
        if (kind is { } k)
        {
            var bytes = await ReadLimitedAsync(request.Body, request.ContentLength, limit, ct);
            return new Upload(bytes, k, k == UploadKind.Dicom ? "upload.dcm" : "upload.png");
        }

        var reader = new MultipartReader(boundary!, request.Body) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || !cd.IsFileDisposition())
                continue; // plain form fields are skipped (their bodies are drained by the reader)
            string name = Path.GetFileName(HeaderUtilities.RemoveQuotes(cd.FileNameStar.HasValue ? cd.FileNameStar : cd.FileName).Value ?? "");
            if (name.Length == 0) name = "upload";
            var bytes = await ReadLimitedAsync(section.Body, null, limit, ct);
            UploadKind? partKind = null;
            if (MediaTypeHeaderValue.TryParse(section.ContentType, out var pmt) && pmt.MediaType.Value is { } ptype)
            {
                partKind = KindOf(ptype);
                if (partKind == null && !IsGeneric(ptype))
                    throw ProblemException.Unsupported($"file part '{name}' has content type '{ptype}'; use application/dicom or image/png");
            }
            partKind ??= Sniff(bytes, name)
                ?? throw ProblemException.Unsupported($"file part '{name}' is neither DICOM (no DICM marker, no .dcm/.dicom name) nor PNG");
            return new Upload(bytes, partKind.Value, name, name != "upload");
        }
        throw ProblemException.BadRequest("multipart/form-data body has no file part");
    }

    private static UploadKind? KindOf(string mediaType) => mediaType.ToLowerInvariant() switch
    {
        "application/dicom" => UploadKind.Dicom,
        "image/png" => UploadKind.Png,
        _ => null,
    };

    // Browsers send these for files they do not know (.dcm, .dicom): we look at the bytes instead.
    private static bool IsGeneric(string mediaType) =>
        mediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase) ||
        mediaType.Equals("application/x-dicom", StringComparison.OrdinalIgnoreCase);

    /// <summary>PNG by signature, DICOM by its DICM marker or file name.</summary>
    public static UploadKind? Sniff(ReadOnlySpan<byte> bytes, string fileName)
    {
        if (PngUpload.LooksLikePng(bytes)) return UploadKind.Png;
        if (DicomUpload.LooksLikeDicom(bytes)) return UploadKind.Dicom;
        string ext = Path.GetExtension(fileName).ToLowerInvariant();
        return ext is ".dcm" or ".dicom" or ".dic" ? UploadKind.Dicom : ext == ".png" ? UploadKind.Png : null;
    }

    /// <summary>First buffer of a read; it doubles as bytes arrive, so a slow or lying sender holds only what it sent.</summary>
    public const int InitialBuffer = 64 * 1024;

    /// <summary>
    /// Reads a stream fully into one array, failing with 413 as soon as it passes <paramref name="limit"/>. The buffer
    /// starts small and doubles as bytes arrive (never beyond <paramref name="declared"/> or the limit + 1), so a
    /// Content-Length alone reserves nothing; a body shorter than its Content-Length is a 400.
    /// </summary>
    public static async Task<byte[]> ReadLimitedAsync(Stream s, long? declared, long limit, CancellationToken ct)
    {
        if (declared > limit) throw ProblemException.TooLarge(limit);
        long cap = declared ?? limit + 1;
        var buf = new byte[(int)Math.Min(cap, InitialBuffer)];
        int len = 0;
        while (true)
        {
            if (len == buf.Length)
            {
                if (len >= cap)
                {
                    // Declared length reached: anything more is the server's framing problem, not ours (Kestrel
                    // ends the body at Content-Length); without one, one byte past the limit is a 413.
                    if (declared is null) throw ProblemException.TooLarge(limit);
                    break;
                }
                Array.Resize(ref buf, (int)Math.Min(cap, (long)buf.Length * 2));
            }
            int r = await s.ReadAsync(buf.AsMemory(len), ct);
            if (r == 0) break;
            len += r;
            if (len > limit) throw ProblemException.TooLarge(limit);
        }
        if (declared is { } n && len != n)
            throw ProblemException.BadRequest($"the body ended after {len} of the {n} bytes its Content-Length declared");
        if (len != buf.Length) Array.Resize(ref buf, len);
        return buf;
    }
}
