// model.json of every run directory (docs/design.md "Run directory"): one type for classifier and detector runs. The
// two tasks keep the layouts their files have always had, so run directories written before this type still load:
// a classifier card carries input_size, mean, std, thresholds and provenance; a detector card carries label_offset,
// input, normalisation, config (model, solver and input sections; config.model rebuilds the network), training and
// metrics. The configuration is kept as written: a card read and saved again keeps its layout, old or new.
using System.Text.Json;
using System.Text.Json.Serialization;
using SpineXR.IO;

namespace SpineXR.Vision.Configuration;

/// <summary>Where a trained model came from: data, configuration, code version, time.</summary>
public sealed record Provenance(
    string DataHash,
    JsonElement Config,
    string GitCommit,
    DateTime Date,
    int Steps,
    string? Preset = null,
    string? Data = null,
    string? InitWeights = null);

/// <summary>A detector's input: shortest-edge resize to <see cref="MinSize"/>, longest edge at most <see cref="MaxSize"/>.</summary>
public sealed record DetectorInput(int MinSize, int MaxSize, int Channels = 3, string Range = "[0, 1], grayscale repeated");

/// <summary>Per-channel normalisation applied inside the network.</summary>
public sealed record Normalisation(double[] Mean, double[] Std);

/// <summary>How a detector was trained: data identity, code version, time (ISO 8601).</summary>
public sealed record TrainingRecord(string DataHash, string GitCommit, string Date);

/// <summary>
/// <c>model.json</c>: what a loader needs to rebuild and feed the model, and where it came from.
/// <see cref="Task"/> is <see cref="ClassifierTask"/> or <see cref="DetectionTask"/>; the members of the other task are
/// absent (null or 0) and not written.
/// </summary>
public sealed record ModelCard(
    string Task,
    string Architecture,
    string[] Classes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int InputSize,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double[] Mean,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double[] Std,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, double> Thresholds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Provenance Provenance)
{
    public const string FileName = "model.json";
    public const string ClassifierTask = "classifier";
    public const string DetectionTask = "detection";

    /// <summary>Detector: added to a 0-based class id to get the network's label (1 where label 0 is background).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? LabelOffset { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DetectorInput? Input { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Normalisation? Normalisation { get; init; }

    /// <summary>
    /// The training configuration: <c>{"model", "solver", "input"}</c> (a detector's at the top level, a classifier's in
    /// its provenance), or one flat object in run directories written before the configuration was split.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Config { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TrainingRecord? Training { get; init; }

    /// <summary>Detector: validation metrics of the kept weights (val_map50).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, double>? Metrics { get; init; }

    /// <summary>Detector: the model configuration that rebuilds and runs the network (<see cref="DetectorModelConfig.FromCardConfig"/>).</summary>
    /// <exception cref="InvalidDataException">No config, or one that does not read; the message names the file.</exception>
    public DetectorModelConfig DetectorModel(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (Config is not { } config) throw new InvalidDataException($"{path}: no config");
        try { return DetectorModelConfig.FromCardConfig(config); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: config: {e.Message}", e); }
    }

    public void Save(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, ConfigBinder.Json));

    /// <summary>Reads <c>RUN_DIR/model.json</c>, checking that it describes a <paramref name="task"/> model when one is given.</summary>
    /// <exception cref="InvalidDataException">Missing or malformed model.json, or another task; the message names the file.</exception>
    public static ModelCard Load(string runDir, string? task = null)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no model.json (not a run directory?)", path);
        ModelCard card;
        try
        {
            card = JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(path), ConfigBinder.Json) ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        if (string.IsNullOrEmpty(card.Task) || string.IsNullOrEmpty(card.Architecture) || card.Classes is null)
            throw new InvalidDataException($"{path}: task, architecture and classes are required");
        if (task != null && card.Task != task)
            throw new InvalidDataException($"{path}: not a {task} model (task '{card.Task}')");
        if (card.Task == ClassifierTask && (card.InputSize <= 0 || card.Mean is not { Length: 3 } || card.Std is not { Length: 3 }))
            throw new InvalidDataException($"{path}: a classifier card needs input_size and three-value mean and std");
        if (card.Task == DetectionTask && card.Config is null)
            throw new InvalidDataException($"{path}: a detector card needs its config");
        return card;
    }
}
