// model.json of a detector run: what the model is (architecture, classes, input size, normalisation), how it was
// trained (configuration, data hash, git commit, date) and its validation metric.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpineXR.IO;

namespace SpineXR.Vision.Detection.Training;

/// <summary>Writes and reads the detector's model.json.</summary>
public static class ModelCard
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static void Write(string runDir, DetectorTrainConfig config, IReadOnlyList<string> classes, string dataHash, JsonObject? metrics)
    {
        var root = new JsonObject
        {
            ["task"] = "detection",
            ["architecture"] = config.Arch switch { "faster-rcnn" => $"fasterrcnn_{config.Backbone}_fpn", "sparse-rcnn" => $"sparse_rcnn_{config.Backbone}_fpn", _ => $"retinanet_{config.Backbone}_fpn" },
            ["classes"] = new JsonArray(classes.Select(c => (JsonNode)c!).ToArray()),
            ["label_offset"] = config.Arch == "faster-rcnn" ? 1 : 0,
            ["input"] = new JsonObject { ["min_size"] = config.MinSizes[^1], ["max_size"] = config.MaxSize, ["channels"] = 3, ["range"] = "[0, 1], grayscale repeated" },
            ["normalisation"] = new JsonObject { ["mean"] = new JsonArray(0.485, 0.456, 0.406), ["std"] = new JsonArray(0.229, 0.224, 0.225) },
            ["config"] = JsonSerializer.SerializeToNode(config, JsonOptions),
            ["training"] = new JsonObject
            {
                ["data_hash"] = dataHash,
                ["git_commit"] = GitCommit(),
                ["date"] = DateTime.UtcNow.ToString("O"),
            },
            ["metrics"] = metrics,
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, "model.json"), root.ToJsonString(JsonOptions));
    }

    private static string GitCommit()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (p is null) return "unknown";
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(2000);
            return p.ExitCode == 0 ? s : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
