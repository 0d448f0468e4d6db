// predict's DICOMweb ends: a study fetched from a DICOMweb service into the output folder (QIDO-RS lists it, WADO-RS
// retrieves it), and the SR and presentation states of a run stored on a DICOMweb service (STOW-RS).
using SpineXR.Dicom;
using SpineXR.Dicom.Web;
using SpineXR.IO;

namespace SpineXR.Inference;

/// <summary>Fetches a study's instances for `predict --from-dicomweb` and sends its DICOM results for `--to-dicomweb`.</summary>
public static class DicomWebTransfer
{
    /// <summary>
    /// Lists the instances of <paramref name="studyUid"/> (QIDO-RS), retrieves the study (WADO-RS) and writes each
    /// instance atomically to <paramref name="dir"/>/STUDY/SOP_INSTANCE_UID.dcm, so the image id of each is its SOP
    /// Instance UID. A study the service does not know, or a retrieval missing listed instances, is a
    /// <see cref="DicomException"/> with the reason.
    /// </summary>
    public static async Task<IReadOnlyList<string>> FetchStudyAsync(DicomWebClient client, Uri baseUrl, string studyUid, string dir, CancellationToken ct = default)
    {
        if (!DicomUid.IsValid(studyUid)) throw new DicomException($"'{studyUid}' is not a valid Study Instance UID");
        var listed = (await client.SearchInstancesAsync(baseUrl, studyUid, ct))
            .Select(i => i.GetString(DicomTags.SOPInstanceUID)).Where(u => !string.IsNullOrEmpty(u)).ToHashSet();
        if (listed.Count == 0) throw new DicomException($"{baseUrl}: study {studyUid} not found (QIDO-RS lists no instance)");
        var parts = await client.RetrieveStudyAsync(baseUrl, studyUid, ct);
        string studyDir = Path.Combine(dir, studyUid);
        var files = new List<string>();
        for (int i = 0; i < parts.Count; i++)
        {
            string? sop = null;
            try { sop = DicomFile.Read(parts[i], DicomReadOptions.HeaderOnly).Dataset.GetString(DicomTags.SOPInstanceUID); }
            catch (DicomException) { } // kept under its position: predict then reports why it is unreadable
            string name = sop != null && DicomUid.IsValid(sop) ? sop : $"part-{i + 1}";
            string path = Path.Combine(studyDir, name + ".dcm");
            AtomicFile.WriteAllBytes(path, parts[i]);
            files.Add(path);
            if (sop != null) listed.Remove(sop);
        }
        if (listed.Count > 0) throw new DicomException($"{baseUrl}: WADO-RS of study {studyUid} lacked {listed.Count} listed instance(s), e.g. {listed.First()}");
        return files;
    }

    /// <summary>Stores every SR and presentation state of a `predict` output (dicom/sr, dicom/pr) by STOW-RS, in one request.</summary>
    public static async Task<StowResult> SendResultsAsync(DicomWebClient client, Uri baseUrl, string outDir, CancellationToken ct = default)
    {
        var files = new[] { "sr", "pr" }.Select(k => Path.Combine(outDir, "dicom", k)).Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "*.dcm")).Order(StringComparer.Ordinal).ToList();
        var bytes = new List<byte[]>(files.Count);
        foreach (var f in files) bytes.Add(await File.ReadAllBytesAsync(f, ct));
        return await client.StoreAsync(baseUrl, bytes, ct);
    }
}
