// The DICOM JSON Model (PS3.18 F.2): a dataset as {"GGGGEEEE": {"vr": "..", "Value": [...]}}. Used for DICOMweb
// answers (STOW-RS responses) and read back from QIDO-RS searches.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SpineXR.Dicom.Web;

/// <summary>Writes and reads datasets in the DICOM JSON model.</summary>
public static class DicomJson
{
    public const string MediaType = "application/dicom+json";

    /// <summary>The dataset as a DICOM JSON object (tags in ascending order; an empty value has no "Value").</summary>
    public static JsonObject ToJson(DicomDataset ds)
    {
        var obj = new JsonObject();
        foreach (var e in ds.Elements)
        {
            var attr = new JsonObject { ["vr"] = DicomVRInfo.ToText(e.VR) };
            var values = Values(ds, e);
            if (values != null && values.Count > 0) attr[e.VR is DicomVR.OB or DicomVR.OW or DicomVR.UN ? "InlineBinary" : "Value"] =
                e.VR is DicomVR.OB or DicomVR.OW or DicomVR.UN ? values[0]!.DeepClone() : values;
            obj[$"{e.Tag.Group:X4}{e.Tag.Element:X4}"] = attr;
        }
        return obj;
    }

    public static string Serialize(DicomDataset ds) => ToJson(ds).ToJsonString();

    private static JsonArray? Values(DicomDataset ds, DicomElement e)
    {
        if (e.Items != null) return new JsonArray(e.Items.Select(i => (JsonNode?)ToJson(i)).ToArray());
        if (e.Fragments != null) return null;
        switch (e.VR)
        {
            case DicomVR.OB or DicomVR.OW or DicomVR.UN:
                return e.Data.Length == 0 ? null : new JsonArray(JsonValue.Create(Convert.ToBase64String(e.Data.Span)));
            case DicomVR.PN:
                return new JsonArray(ds.GetStrings(e.Tag).Select(s => (JsonNode?)(s.Length == 0 ? null : new JsonObject { ["Alphabetic"] = s })).ToArray());
            case DicomVR.DS:
            case DicomVR.IS:
                return new JsonArray(ds.GetStrings(e.Tag).Select(s =>
                    double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? JsonValue.Create(d) : (JsonNode?)null).ToArray());
            case DicomVR.AT:
                return null;
        }
        if (DicomVRInfo.IsString(e.VR))
            return new JsonArray(ds.GetStrings(e.Tag).Select(s => (JsonNode?)(s.Length == 0 ? null : JsonValue.Create(s))).ToArray());
        return new JsonArray(ds.GetDoubles(e.Tag).Select(d => (JsonNode?)JsonValue.Create(d)).ToArray());
    }

    /// <summary>
    /// A dataset from a DICOM JSON object: text, numbers, person names and sequences (enough for QIDO-RS answers);
    /// binary values are skipped. Malformed input is a <see cref="DicomException"/> with the reason.
    /// </summary>
    public static DicomDataset FromJson(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object) throw new DicomException("DICOM JSON: a dataset must be an object");
        var ds = new DicomDataset(System.Text.Encoding.UTF8);
        foreach (var prop in obj.EnumerateObject())
        {
            if (prop.Name.Length != 8 || !uint.TryParse(prop.Name, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint tagValue))
                throw new DicomException($"DICOM JSON: '{prop.Name}' is not a tag");
            var tag = DicomTag.FromValue(tagValue);
            if (prop.Value.ValueKind != JsonValueKind.Object || !prop.Value.TryGetProperty("vr", out var vrText) || vrText.GetString() is not { Length: 2 } vrs
                || !DicomVRInfo.TryParse((byte)vrs[0], (byte)vrs[1], out var vr))
                throw new DicomException($"DICOM JSON: {tag} has no valid vr");
            prop.Value.TryGetProperty("Value", out var value);
            var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [];
            if (vr == DicomVR.SQ) { ds.SetSequence(tag, items.Select(FromJson).ToArray()); continue; }
            if (vr is DicomVR.OB or DicomVR.OW or DicomVR.UN or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV or DicomVR.AT) continue;
            string Text(JsonElement v) => v.ValueKind switch
            {
                JsonValueKind.String => v.GetString()!,
                JsonValueKind.Number => v.GetRawText(),
                JsonValueKind.Object when v.TryGetProperty("Alphabetic", out var a) => a.GetString() ?? "",
                _ => "",
            };
            if (DicomVRInfo.IsString(vr)) ds.SetString(tag, vr, items.Select(Text).ToArray());
            else if (vr is DicomVR.FL or DicomVR.FD) ds.SetDoubles(tag, vr, items.Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).ToArray());
            else if (vr is DicomVR.US or DicomVR.SS or DicomVR.UL or DicomVR.SL)
                ds.SetInts(tag, vr, items.Where(v => v.ValueKind == JsonValueKind.Number).Select(v => (int)v.GetInt64()).ToArray());
        }
        return ds;
    }
}
