using System.Text.Json.Serialization;
using SpineXR.Boxes;
using SpineXR.Data;

namespace SpineXR.Inference;

/// <summary>One lesion box in a prediction: class name and index, score, box xyxy in original image pixels.</summary>
public sealed record PredictedBox(
    [property: JsonPropertyName("class")] string Class,
    [property: JsonPropertyName("class_id")] int ClassId,
    [property: JsonPropertyName("score")] float Score,
    [property: JsonPropertyName("box")] float[] Xyxy)
{
    public static PredictedBox From(ScoredBox d) =>
        new(LesionTaxonomy.Classes[d.ClassId], d.ClassId, d.Score, [d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2]);

    [JsonIgnore] public BoxF Box => new(Xyxy[0], Xyxy[1], Xyxy[2], Xyxy[3]);
}

/// <summary>The verdict and findings for one image, as written to predictions.json and served by the API.</summary>
public sealed record ImagePrediction
{
    [JsonPropertyName("file")] public required string File { get; init; }
    [JsonPropertyName("image_id")] public required string ImageId { get; init; }
    [JsonPropertyName("study_instance_uid")] public string? StudyInstanceUid { get; init; }
    [JsonPropertyName("series_instance_uid")] public string? SeriesInstanceUid { get; init; }
    [JsonPropertyName("sop_instance_uid")] public string? SopInstanceUid { get; init; }
    [JsonPropertyName("width")] public int Width { get; init; }
    [JsonPropertyName("height")] public int Height { get; init; }
    [JsonPropertyName("abnormal_prob")] public double AbnormalProbability { get; init; }
    [JsonPropertyName("logit")] public double Logit { get; init; }
    /// <summary>"abnormal" when the probability is at or above the abnormal threshold, else "normal".</summary>
    [JsonPropertyName("verdict")] public required string Verdict { get; init; }
    /// <summary>Boxes kept by the decision rule, highest score first.</summary>
    [JsonPropertyName("boxes")] public required IReadOnlyList<PredictedBox> Boxes { get; init; }

    /// <summary>The detector ensemble's boxes before the decision rule (written to detections.json, so that
    /// `eval detector` measures the detector and `eval overall` applies the rule itself).</summary>
    [JsonPropertyName("detector_boxes")] public IReadOnlyList<PredictedBox>? DetectorBoxes { get; init; }

    /// <summary>`spinexr predict`: the key of the models and thresholds that made this result (a rerun with other
    /// models redoes it); absent elsewhere.</summary>
    [JsonPropertyName("provenance_key")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ProvenanceKey { get; init; }
}

/// <summary>What produced a set of predictions: model run directories and the decision-rule thresholds.</summary>
public sealed record PredictionProvenance
{
    [JsonPropertyName("classifiers")] public required IReadOnlyList<string> Classifiers { get; init; }
    [JsonPropertyName("detectors")] public required IReadOnlyList<string> Detectors { get; init; }
    [JsonPropertyName("abnormal_threshold")] public double AbnormalThreshold { get; init; }
    [JsonPropertyName("keep_threshold")] public double KeepThreshold { get; init; }
    [JsonPropertyName("tta")] public bool Tta { get; init; }
    [JsonPropertyName("created")] public string Created { get; init; } = DateTime.UtcNow.ToString("O");
}
