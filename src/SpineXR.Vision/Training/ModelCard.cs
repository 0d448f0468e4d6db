using System.Text.Json;
using SpineXR.IO;

namespace SpineXR.Vision.Training;

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

/// <summary>
/// <c>model.json</c> of a run directory: what a loader needs to rebuild and feed the model
/// (architecture, classes, input size, normalisation, thresholds) plus its <see cref="Provenance"/>.
/// </summary>
public sealed record ModelCard(
    string Task,
    string Architecture,
    string[] Classes,
    int InputSize,
    double[] Mean,
    double[] Std,
    Dictionary<string, double> Thresholds,
    Provenance Provenance)
{
    public const string FileName = "model.json";

    public void Save(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, ConfigBinder.Json));

    /// <exception cref="InvalidDataException">Missing or malformed model.json; the message names the file.</exception>
    public static ModelCard Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no model.json (not a run directory?)", path);
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(path), ConfigBinder.Json)
                   ?? throw new InvalidDataException("empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
