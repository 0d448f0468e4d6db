using System.Text.Json;
using SpineXR.Dicom.Web;

namespace SpineXR.Dicom.Tests.Web;

public class DicomJsonTests
{
    [Fact]
    public void A_stow_answer_round_trips_through_the_dicom_json_model()
    {
        var ds = new DicomDataset()
            .SetString(DicomTags.RetrieveURL, DicomVR.UR, "http://x/dicom-web/studies/1.2")
            .SetSequence(DicomTags.FailedSOPSequence, new DicomDataset()
                .SetString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3")
                .SetInts(DicomTags.FailureReason, DicomVR.US, 0xC000))
            .SetString(DicomTags.PatientName, DicomVR.PN, "Müller^Anna")
            .SetDoubles(DicomTags.PixelSpacing, DicomVR.DS, 0.5, 0.25)
            .SetString(DicomTags.PatientID, DicomVR.LO, "");
        var json = JsonDocument.Parse(DicomJson.Serialize(ds)).RootElement;
        Assert.Equal("SQ", json.GetProperty("00081198").GetProperty("vr").GetString());
        Assert.Equal(49152, json.GetProperty("00081198").GetProperty("Value")[0].GetProperty("00081197").GetProperty("Value")[0].GetInt32());
        Assert.Equal("Müller^Anna", json.GetProperty("00100010").GetProperty("Value")[0].GetProperty("Alphabetic").GetString());
        Assert.Equal(0.25, json.GetProperty("00280030").GetProperty("Value")[1].GetDouble());
        Assert.False(json.GetProperty("00100020").TryGetProperty("Value", out _)); // empty: no Value (PS3.18 F.2.5)

        var back = DicomJson.FromJson(json);
        Assert.Equal("1.2.3", Assert.Single(back.GetSequence(DicomTags.FailedSOPSequence)).GetString(DicomTags.ReferencedSOPInstanceUID));
        Assert.Equal(0xC000, back.GetSequence(DicomTags.FailedSOPSequence)[0].GetIntOrDefault(DicomTags.FailureReason, 0));
        Assert.Equal("Müller^Anna", back.GetString(DicomTags.PatientName));
        Assert.Equal([0.5, 0.25], back.GetDoubles(DicomTags.PixelSpacing));
    }

    [Theory]
    [InlineData("[]", "must be an object")]
    [InlineData("{\"0010001\": {\"vr\": \"PN\"}}", "is not a tag")]
    [InlineData("{\"00100010\": {\"Value\": []}}", "has no valid vr")]
    [InlineData("{\"00100010\": {\"vr\": \"ZZ\"}}", "has no valid vr")]
    public void Malformed_json_is_a_dicom_exception_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<DicomException>(() => DicomJson.FromJson(JsonDocument.Parse(text).RootElement));
        Assert.Contains(reason, e.Message);
    }
}
