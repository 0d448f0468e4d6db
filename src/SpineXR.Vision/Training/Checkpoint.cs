// Resumable training state. Each save goes to a fresh folder checkpoint/step-NNNNNNN/ (model weights,
// optimizer state, torch RNG, trainer JSON); only then does checkpoint/latest.json, written atomically,
// point at it, and older folders are removed. A kill at any moment leaves the previous checkpoint intact.
using System.Text.Json;
using SpineXR.IO;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Training;

/// <summary>Saves and restores model + optimizer + step + RNG + trainer-specific JSON state.</summary>
public static class Checkpoint
{
    private sealed record Pointer(string Folder, int Step);

    /// <summary>Writes a checkpoint for <paramref name="step"/> (steps completed) into <paramref name="dir"/>.</summary>
    public static void Save(string dir, int step, nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, JsonElement trainerState)
    {
        string name = $"step-{step:D7}";
        string folder = Path.Combine(dir, name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        StateDict.SaveSafeTensors(model, Path.Combine(folder, "model.safetensors"));
        AtomicFile.Write(Path.Combine(folder, "optimizer.bin"), s =>
        {
            using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
            optimizer.save_state_dict(w);
        });
        using (var rng = torch.get_rng_state())
            SafeTensors.Write(Path.Combine(folder, "rng.safetensors"), [new("torch_cpu", rng)]);
        AtomicFile.WriteAllText(Path.Combine(folder, "trainer.json"), trainerState.GetRawText());
        AtomicFile.WriteAllText(Path.Combine(dir, "latest.json"), JsonSerializer.Serialize(new Pointer(name, step)));
        foreach (var old in Directory.GetDirectories(dir, "step-*"))
            if (Path.GetFileName(old) != name)
                try { Directory.Delete(old, recursive: true); } catch (IOException) { }
    }

    /// <summary>The step of the latest complete checkpoint in <paramref name="dir"/>, or null.</summary>
    public static int? LatestStep(string dir)
    {
        var p = ReadPointer(dir);
        return p?.Step;
    }

    /// <summary>Restores the latest checkpoint into <paramref name="model"/> and <paramref name="optimizer"/>; returns its step and trainer JSON, or null when there is none.</summary>
    public static (int Step, JsonElement TrainerState)? Load(string dir, nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        var p = ReadPointer(dir);
        if (p == null) return null;
        string folder = Path.Combine(dir, p.Folder);
        var weights = SafeTensors.Read(Path.Combine(folder, "model.safetensors"));
        try { StateDict.Load(model, weights, source: folder); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
        using (var s = File.OpenRead(Path.Combine(folder, "optimizer.bin")))
        using (var r = new BinaryReader(s))
            optimizer.load_state_dict(r);
        var rng = SafeTensors.Read(Path.Combine(folder, "rng.safetensors"));
        torch.set_rng_state(rng["torch_cpu"]);
        foreach (var t in rng.Values) t.Dispose();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "trainer.json")));
        return (p.Step, doc.RootElement.Clone());
    }

    private static Pointer? ReadPointer(string dir)
    {
        string path = Path.Combine(dir, "latest.json");
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Pointer>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }
}
