// Reading torchvision state dicts (.pth written by torch.save(model.state_dict()), or .safetensors) and copying
// them into modules with nanoGPT-style checks: every key and shape must match, except BatchNorm's
// num_batches_tracked, which FrozenBatchNorm2d does not have (torchvision drops it on load the same way).
using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpineXR.Vision.Weights;

/// <summary>Loads, checks and saves state dicts with torchvision key names.</summary>
public static class StateDicts
{
    /// <summary>Reads every tensor of a .pth (pickled state dict) or .safetensors file, by key.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such weights file", path);
        try
        {
            if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                var st = Safetensors.LoadStateDict(path);
                return new Dictionary<string, Tensor>(st, StringComparer.Ordinal);
            }
            using var fs = File.OpenRead(path);
            var table = PyTorchUnpickler.UnpickleStateDict(fs);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in table)
            {
                if (e.Key is string k && e.Value is Tensor t) result[k] = t;
            }
            return result;
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a readable PyTorch state dict ({e.Message})", e);
        }
    }

    /// <summary>Keys a module expects, with shapes.</summary>
    public static Dictionary<string, long[]> ExpectedKeys(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);

    private static bool Ignorable(string key) => key.EndsWith("num_batches_tracked", StringComparison.Ordinal);

    /// <summary>
    /// Copies tensors into the module. Strict: throws listing missing, unexpected and mis-shaped keys.
    /// Non-strict: loads what matches; keys whose name starts with a prefix in <paramref name="skipPrefixes"/> are left at their
    /// initial values (class-dependent layers). Returns the keys left unloaded.
    /// </summary>
    public static List<string> Load(nn.Module module, IReadOnlyDictionary<string, Tensor> source, bool strict = true, IReadOnlyCollection<string>? skipPrefixes = null)
    {
        var target = module.state_dict();
        var missing = new List<string>();
        var shapes = new List<string>();
        bool Skip(string k) => skipPrefixes is not null && skipPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal));
        foreach (var (k, t) in target)
        {
            if (Skip(k)) { missing.Add(k); continue; }
            if (!source.TryGetValue(k, out var s))
            {
                if (!Ignorable(k)) missing.Add(k);
                continue;
            }
            if (!s.shape.SequenceEqual(t.shape))
            {
                shapes.Add($"{k} {Shape(s.shape)} vs {Shape(t.shape)}");
                continue;
            }
        }
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k) && !Ignorable(k) && !Skip(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0 || shapes.Count > 0))
        {
            throw new InvalidDataException("weights do not match the model: "
                + (missing.Count > 0 ? $"missing {missing.Count} ({string.Join(", ", missing.Take(5))}) " : "")
                + (unexpected.Count > 0 ? $"unexpected {unexpected.Count} ({string.Join(", ", unexpected.Take(5))}) " : "")
                + (shapes.Count > 0 ? $"shape mismatch {shapes.Count} ({string.Join("; ", shapes.Take(5))})" : ""));
        }
        using (no_grad())
        {
            foreach (var (k, t) in target)
            {
                if (Skip(k) || !source.TryGetValue(k, out var s) || !s.shape.SequenceEqual(t.shape)) continue;
                t.copy_(s.to(t.dtype));
            }
        }
        missing.AddRange(shapes.Select(s => s.Split(' ')[0]));
        return missing;
    }

    /// <summary>Writes the module's state dict as .safetensors (atomic: temp file then rename).</summary>
    public static void SaveSafetensors(nn.Module module, string path)
    {
        string tmp = path + ".tmp";
        module.save_safetensors(tmp);
        File.Move(tmp, path, overwrite: true);
    }

    private static string Shape(long[] s) => "(" + string.Join(", ", s) + ")";
}
