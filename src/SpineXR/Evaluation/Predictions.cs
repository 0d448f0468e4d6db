// Prediction files (docs/design.md): classifier CSV `image_id, abnormal_prob[, logit]`; detector JSON in COCO results style
// `[{"image_id", "category", "category_id", "bbox": [x, y, w, h], "score"}]`, original image pixels.
// Bad entries are reported one line each with the file and reason, and counted; good ones are kept.
using System.Globalization;
using System.Text;
using System.Text.Json;
using SpineXR.Data;
using SpineXR.IO;

namespace SpineXR.Evaluation;

/// <summary>One image's classifier output: probability of "abnormal" and, when known, the logit.</summary>
public readonly record struct ClassifierPrediction(string ImageId, double AbnormalProb, double? Logit)
{
    /// <summary>The logit, or log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6] (the official ensemble's i_sigmoid).</summary>
    public double LogitOrFromProb
    {
        get
        {
            if (Logit is double l) return l;
            double p = Math.Clamp(AbnormalProb, 1e-6, 1 - 1e-6);
            return Math.Log(p / (1.0 - p));
        }
    }
}

/// <summary>One predicted box, COCO results style: [x, y, w, h] in original image pixels.</summary>
public readonly record struct DetectorPrediction(string ImageId, int ClassId, double X, double Y, double W, double H, double Score);

/// <summary>What a reader kept and what it rejected (one line per rejected entry).</summary>
public sealed record ReadResult<T>(IReadOnlyList<T> Items, IReadOnlyList<string> Problems);

/// <summary>Reads and writes the classifier predictions CSV.</summary>
public static class ClassifierPredictionsFile
{
    public static ReadResult<ClassifierPrediction> Read(string path)
    {
        using var t = CsvReader.Open(path);
        int cId = t.Require("image_id"), cProb = t.Require("abnormal_prob"), cLogit = t.IndexOf("logit");
        var items = new List<ClassifierPrediction>();
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[]? f;
        while ((f = t.Read()) != null)
        {
            long line = t.RowLine;
            string Get(int c) => c >= 0 && c < f.Length ? f[c].Trim() : "";
            string id = Get(cId);
            if (id.Length == 0) { problems.Add($"{path}:{line}: empty image_id"); continue; }
            if (!double.TryParse(Get(cProb), NumberStyles.Float, CultureInfo.InvariantCulture, out double p) || !double.IsFinite(p))
            { problems.Add($"{path}:{line}: image {id}: abnormal_prob '{Get(cProb)}' is not a finite number"); continue; }
            if (p is < 0 or > 1) { problems.Add($"{path}:{line}: image {id}: abnormal_prob {p} outside [0, 1]"); continue; }
            double? logit = null;
            if (cLogit >= 0 && Get(cLogit).Length > 0)
            {
                if (!double.TryParse(Get(cLogit), NumberStyles.Float, CultureInfo.InvariantCulture, out double l) || double.IsNaN(l))
                { problems.Add($"{path}:{line}: image {id}: logit '{Get(cLogit)}' is not a number"); continue; }
                logit = l;
            }
            if (!seen.Add(id)) { problems.Add($"{path}:{line}: image {id} appears again, later row ignored"); continue; }
            items.Add(new ClassifierPrediction(id, p, logit));
        }
        return new ReadResult<ClassifierPrediction>(items, problems);
    }

    public static void Write(string path, IEnumerable<ClassifierPrediction> items)
    {
        var list = items.ToList();
        bool logits = list.Any(p => p.Logit.HasValue);
        var sb = new StringBuilder(logits ? "image_id,abnormal_prob,logit\n" : "image_id,abnormal_prob\n");
        foreach (var p in list)
        {
            sb.Append(CsvWriter.Escape(p.ImageId)).Append(',').Append(p.AbnormalProb.ToString("R", CultureInfo.InvariantCulture));
            if (logits) sb.Append(',').Append(p.Logit?.ToString("R", CultureInfo.InvariantCulture) ?? "");
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}

/// <summary>Reads and writes the detector predictions JSON.</summary>
public static class DetectorPredictionsFile
{
    public static ReadResult<DetectorPrediction> Read(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(QuoteNonFiniteLiterals(File.ReadAllBytes(path)), new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: not a readable JSON file ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: expected a JSON array of detections, got {doc.RootElement.ValueKind}");
            var items = new List<DetectorPrediction>();
            var problems = new List<string>();
            int n = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                string? err = TryParse(e, out DetectorPrediction box);
                if (err != null) problems.Add($"{path} entry {n}: {err}");
                else items.Add(box);
                n++;
            }
            return new ReadResult<DetectorPrediction>(items, problems);
        }
    }

    /// <summary>
    /// Python's json.dump writes NaN / Infinity / -Infinity as bare literals, which JSON forbids; quote them so the
    /// file parses and the entries holding them are reported one by one instead of failing the whole file.
    /// </summary>
    internal static byte[] QuoteNonFiniteLiterals(byte[] json)
    {
        var o = new List<byte>(json.Length + 16);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            byte c = json[i];
            if (inString)
            {
                o.Add(c);
                if (c == '\\' && i + 1 < json.Length) o.Add(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; o.Add(c); continue; }
            int len = Match(json, i, "NaN"u8) ? 3 : Match(json, i, "Infinity"u8) ? 8 : Match(json, i, "-Infinity"u8) ? 9 : 0;
            if (len > 0)
            {
                o.Add((byte)'"');
                for (int j = 0; j < len; j++) o.Add(json[i + j]);
                o.Add((byte)'"');
                i += len - 1;
                continue;
            }
            o.Add(c);
        }
        return o.ToArray();
    }

    private static bool Match(byte[] s, int i, ReadOnlySpan<byte> word) => s.AsSpan(i).StartsWith(word);

    private static string? TryParse(JsonElement e, out DetectorPrediction box)
    {
        box = default;
        if (e.ValueKind != JsonValueKind.Object) return "not an object";
        string? id = e.TryGetProperty("image_id", out var jid)
            ? jid.ValueKind switch { JsonValueKind.String => jid.GetString(), JsonValueKind.Number => jid.GetRawText(), _ => null }
            : null;
        if (string.IsNullOrWhiteSpace(id)) return "missing image_id";
        int k = -1;
        bool hasName = e.TryGetProperty("category", out var jcat) && jcat.ValueKind == JsonValueKind.String;
        bool hasId = e.TryGetProperty("category_id", out var jcid) && jcid.ValueKind == JsonValueKind.Number;
        if (hasId)
        {
            if (!jcid.TryGetInt32(out k) || k < 0 || k >= LesionTaxonomy.Classes.Count)
                return $"image {id}: category_id {jcid.GetRawText()} is not a class index 0..{LesionTaxonomy.Classes.Count - 1}";
        }
        if (hasName)
        {
            int byName = LesionTaxonomy.ClassIndex(jcat.GetString()!);
            if (byName < 0) return $"image {id}: unknown category '{jcat.GetString()}'";
            if (hasId && byName != k) return $"image {id}: category '{jcat.GetString()}' disagrees with category_id {k}";
            k = byName;
        }
        if (!hasName && !hasId) return $"image {id}: missing category and category_id";
        if (!e.TryGetProperty("bbox", out var jb) || jb.ValueKind != JsonValueKind.Array || jb.GetArrayLength() != 4)
            return $"image {id}: bbox must be [x, y, w, h]";
        var v = new double[4];
        int i = 0;
        foreach (var x in jb.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetDouble(out v[i]) || !double.IsFinite(v[i])) return $"image {id}: bbox has a non-numeric value";
            i++;
        }
        if (v[2] < 0 || v[3] < 0) return $"image {id}: negative box size (w {v[2]}, h {v[3]})";
        if (!e.TryGetProperty("score", out var js)) return $"image {id}: missing score";
        double score = js.ValueKind == JsonValueKind.Number && js.TryGetDouble(out double s) ? s
            : double.NaN;
        if (!double.IsFinite(score)) return $"image {id}: score is not a finite number";
        box = new DetectorPrediction(id, k, v[0], v[1], v[2], v[3], score);
        return null;
    }

    public static void Write(string path, IEnumerable<DetectorPrediction> boxes)
    {
        AtomicFile.Write(path, s =>
        {
            using var w = new Utf8JsonWriter(s);
            w.WriteStartArray();
            foreach (var b in boxes)
            {
                w.WriteStartObject();
                w.WriteString("image_id", b.ImageId);
                w.WriteString("category", LesionTaxonomy.Classes[b.ClassId]);
                w.WriteNumber("category_id", b.ClassId);
                w.WriteStartArray("bbox");
                w.WriteNumberValue(b.X); w.WriteNumberValue(b.Y); w.WriteNumberValue(b.W); w.WriteNumberValue(b.H);
                w.WriteEndArray();
                w.WriteNumber("score", b.Score);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }
}
