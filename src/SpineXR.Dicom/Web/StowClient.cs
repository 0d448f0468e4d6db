// STOW-RS client (PS3.18 10.5): POST {base}/studies with a multipart/related body of Part 10 files; the answer
// names the instances stored (Referenced SOP Sequence) and those refused (Failed SOP Sequence).
using System.Net.Http.Headers;
using System.Text.Json;

namespace SpineXR.Dicom.Web;

/// <summary>What a STOW-RS service answered: SOP Instance UIDs stored and refused (with the failure reason code).</summary>
public sealed record StowResult(int HttpStatus, IReadOnlyList<string> Stored, IReadOnlyList<(string Uid, int Reason)> Failed);

/// <summary>Sends instances to a DICOMweb service by STOW-RS.</summary>
public sealed class StowClient(HttpClient http)
{
    /// <summary>
    /// Stores <paramref name="instances"/> (Part 10 files) under <paramref name="baseUrl"/> (the service root, e.g.
    /// Orthanc's http://host:8042/dicom-web). A refused request (4xx/5xx without a STOW answer) or an unreachable
    /// service is a <see cref="DicomException"/> naming the URL and the status.
    /// </summary>
    public async Task<StowResult> StoreAsync(Uri baseUrl, IReadOnlyList<byte[]> instances, CancellationToken ct = default)
    {
        if (instances.Count == 0) return new StowResult(200, [], []);
        var url = new Uri(baseUrl.ToString().TrimEnd('/') + "/studies");
        string boundary = MultipartRelated.NewBoundary();
        using var content = new ByteArrayContent(MultipartRelated.Build(boundary, instances));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(MultipartRelated.ContentType(boundary));
        using var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        req.Headers.Accept.ParseAdd(DicomJson.MediaType);
        HttpResponseMessage resp;
        try { resp = await http.SendAsync(req, ct); }
        catch (HttpRequestException e) { throw new DicomException($"STOW-RS to {url}: {e.Message}", e); }
        using (resp)
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
}
