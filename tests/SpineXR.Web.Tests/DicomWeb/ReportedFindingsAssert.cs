using System.Text.Json;
using SpineXR.Reports;

namespace SpineXR.Web.Tests.DicomWeb;

/// <summary>Checks that an SR read back (<see cref="ReportedFindings"/>) says what the prediction's JSON says.</summary>
public static class ReportedFindingsAssert
{
    /// <summary>
    /// Same abnormal probability, and the same boxes in the same order: class and score exactly, corners within half a
    /// pixel (the SR stores them as SCOORD floats in image pixel coordinates).
    /// </summary>
    public static void SameAsPrediction(JsonElement prediction, ReportedFindings found)
    {
        Assert.Equal(prediction.GetProperty("abnormal_prob").GetDouble(), found.AbnormalProbability, 12);
        var boxes = prediction.GetProperty("boxes").EnumerateArray().ToList();
        Assert.Equal(boxes.Count, found.Boxes.Count);
        for (int i = 0; i < boxes.Count; i++)
        {
            Assert.Equal(boxes[i].GetProperty("class_id").GetInt32(), found.Boxes[i].ClassId);
            Assert.Equal(boxes[i].GetProperty("score").GetSingle(), found.Boxes[i].Score);
            var xyxy = boxes[i].GetProperty("box").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            for (int k = 0; k < 4; k++) Assert.InRange(found.Boxes[i].Xyxy[k], xyxy[k] - 0.5f, xyxy[k] + 0.5f);
        }
    }
}
