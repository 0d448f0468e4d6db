// DICOMweb client (PS3.18): STOW-RS (10.5: POST {base}/studies, multipart/related of Part 10 files; the answer names
// the instances stored and refused), QIDO-RS (10.6: GET {base}/studies/{study}/instances, DICOM JSON) and WADO-RS
// (10.4: GET {base}/studies/{study}, multipart/related of Part 10 files).
using System.Net.Http.Headers;
using System.Text.Json;

namespace SpineXR.Dicom.Web;

/// <summary>What a STOW-RS service answered: SOP Instance UIDs stored and refused (with the failure reason code).</summary>
public sealed record StowResult(int HttpStatus, IReadOnlyList<string> Stored, IReadOnlyList<(string Uid, int Reason)> Failed);

/// <summary>Stores, searches and retrieves instances on a DICOMweb service (its root URL, e.g. Orthanc's /dicom-web).</summary>
public sealed class DicomWebClient(HttpClient http)
{
    /// <summary>
    /// Stores <paramref name="instances"/> (Part 10 files) under <paramref name="baseUrl"/> (the service root, e.g.
    /// Orthanc's http://host:8042/dicom-web). A refused request (4xx/5xx without a STOW answer) or an unreachable
    /// service is a <see cref="DicomException"/> naming the URL and the status.
    /// </summary>
    public async Task<StowResult> StoreAsync(Uri baseUrl, IReadOnlyList<byte[]> instances, CancellationToken ct = default)
    {
        if (instances.Count == 0) return new StowResult(200, [], []);
        var url = Under(baseUrl, "studies");
        string boundary = MultipartRelated.NewBoundary();
        using var content = new ByteArrayContent(MultipartRelated.Build(boundary, instances));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(MultipartRelated.ContentType(boundary));
        using var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        req.Headers.Accept.ParseAdd(DicomJson.MediaType);
        using (var resp = await Send(req, url, ct))
        {
            string body = await resp.Content.ReadAsStringAsync(ct);
            DicomDataset answer;
            try { answer = body.Length == 0 ? new DicomDataset() : DicomJson.FromJson(JsonDocument.Parse(body).RootElement); }
            catch (JsonException) { answer = new DicomDataset(); }
            var stored = answer.GetSequence(DicomTags.ReferencedSOPSequence).Select(i => i.GetString(DicomTags.ReferencedSOPInstanceUID) ?? "").ToList();
            var failed = answer.GetSequence(DicomTags.FailedSOPSequence)
                .Select(i => (i.GetString(DicomTags.ReferencedSOPInstanceUID) ?? "", i.GetIntOrDefault(DicomTags.FailureReason, 0))).ToList();
            if (!resp.IsSuccessStatusCode && stored.Count == 0 && failed.Count == 0)
                throw new DicomException($"STOW-RS to {url}: HTTP {(int)resp.StatusCode} {resp.ReasonPhrase}" + (body.Length > 0 ? ": " + body[..Math.Min(200, body.Length)] : ""));
            return new StowResult((int)resp.StatusCode, stored, failed);
        }
    }

    /// <summary>QIDO-RS: the instances of <paramref name="studyUid"/> (their attributes as the service returns them; empty when none).</summary>
    public async Task<IReadOnlyList<DicomDataset>> SearchInstancesAsync(Uri baseUrl, string studyUid, CancellationToken ct = default)
    {
        var url = Under(baseUrl, $"studies/{Uri.EscapeDataString(studyUid)}/instances");
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        req.Headers.Accept.ParseAdd(DicomJson.MediaType);
        using var resp = await Send(req, url, ct);
        if (resp.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.NotFound) return [];
        await Ensure(resp, url, ct);
        string body = await resp.Content.ReadAsStringAsync(ct);
        if (body.Trim().Length == 0) return [];
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new DicomException($"QIDO-RS {url}: the answer is not a JSON array");
            return doc.RootElement.EnumerateArray().Select(DicomJson.FromJson).ToList();
        }
        catch (JsonException e) { throw new DicomException($"QIDO-RS {url}: not JSON: {e.Message}", e); }
    }

    /// <summary>WADO-RS: every instance of <paramref name="studyUid"/> as Part 10 bytes.</summary>
    public async Task<IReadOnlyList<byte[]>> RetrieveStudyAsync(Uri baseUrl, string studyUid, CancellationToken ct = default)
    {
        var url = Under(baseUrl, $"studies/{Uri.EscapeDataString(studyUid)}");
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        req.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("multipart/related; type=\"application/dicom\""));
        using var resp = await Send(req, url, ct);
        await Ensure(resp, url, ct);
        var type = resp.Content.Headers.ContentType;
        string? boundary = type?.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
        if (type?.MediaType != "multipart/related" || string.IsNullOrEmpty(boundary))
            throw new DicomException($"WADO-RS {url}: expected multipart/related with a boundary, got {type}");
        byte[] body = await resp.Content.ReadAsByteArrayAsync(ct);
        return MultipartRelated.Split(body, boundary).Select(p => p.Body.ToArray()).ToList();
    }

    private static Uri Under(Uri baseUrl, string path) => new(baseUrl.ToString().TrimEnd('/') + "/" + path);

    private async Task<HttpResponseMessage> Send(HttpRequestMessage req, Uri url, CancellationToken ct)
    {
        try { return await http.SendAsync(req, ct); }
        catch (HttpRequestException e) { throw new DicomException($"DICOMweb {url}: {e.Message}", e); }
    }

    private static async Task Ensure(HttpResponseMessage resp, Uri url, CancellationToken ct)
    {
        if (resp.IsSuccessStatusCode) return;
        string body = await resp.Content.ReadAsStringAsync(ct);
        throw new DicomException($"DICOMweb {url}: HTTP {(int)resp.StatusCode} {resp.ReasonPhrase}" + (body.Length > 0 ? ": " + body[..Math.Min(200, body.Length)].ReplaceLineEndings(" ") : ""));
    }
}
