// State-dict IO with torchvision names: `.pth` files written by torch.save (zip format, a plain
// state dict) through TorchSharp.PyBridge's unpickler, `.safetensors` through SafeTensors, and a
// strict loader that reports every missing, unexpected and mis-shaped key before touching the model
// (torch's load_state_dict(strict=True) contract).
using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpineXR.Vision.Weights;

/// <summary>What a state-dict load found: keys the file lacks, keys the model lacks, and shape mismatches.</summary>
public sealed record WeightLoadReport(
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> ShapeMismatches,
    IReadOnlyList<string> Skipped,
    int Loaded)
{
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>One line: counts and the first few offending keys of each kind.</summary>
    public override string ToString()
    {
        static string List(string what, IReadOnlyList<string> keys) =>
            keys.Count == 0 ? "" : $"; {keys.Count} {what}: {string.Join(", ", keys.Take(5))}{(keys.Count > 5 ? ", ..." : "")}";
        return $"{Loaded} tensors loaded{List("missing", Missing)}{List("unexpected", Unexpected)}{List("with wrong shape", ShapeMismatches)}{List("skipped", Skipped)}";
    }
}

/// <summary>The weights do not fit the model; the message lists the keys.</summary>
public sealed class WeightMismatchException(string message, WeightLoadReport report) : Exception(message)
{
    public WeightLoadReport Report { get; } = report;
}

/// <summary>Loads and saves state dicts (<c>.pth</c>, <c>.safetensors</c>) with strict key and shape checking.</summary>
public static class StateDict
{
    /// <summary>Reads a state dict by extension: <c>.safetensors</c>, else a torch.save'd <c>.pth</c>/<c>.pt</c>/<c>.bin</c>.</summary>
    /// <exception cref="InvalidDataException">Unreadable file; the message names it.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return SafeTensors.Read(path);
        try
        {
            using var stream = File.OpenRead(path);
            Hashtable table = PyTorchUnpickler.UnpickleStateDict(stream);
            var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in table)
            {
                if (e.Key is string k && e.Value is Tensor t) dict[k] = t;
                else throw new InvalidDataException($"entry '{e.Key}' is not a tensor (save model.state_dict(), not the model)");
            }
            return dict;
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a torch.save'd state dict: {e.Message}", e);
        }
    }

    /// <summary>Writes the module's parameters and buffers as safetensors (torchvision names), atomically.</summary>
    public static void SaveSafeTensors(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sd = module.state_dict();
        SafeTensors.Write(path, sd, metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Compares the file's keys and shapes with the module's without loading anything.</summary>
    public static WeightLoadReport Check(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, Func<string, bool>? skip = null)
    {
        var target = module.state_dict();
        var missing = new List<string>();
        var mismatched = new List<string>();
        var skipped = new List<string>();
        int loaded = 0;
        foreach (var (key, t) in target)
        {
            if (skip?.Invoke(key) == true) { skipped.Add(key); continue; }
            if (!weights.TryGetValue(key, out var src)) { missing.Add(key); continue; }
            if (!src.shape.SequenceEqual(t.shape))
                mismatched.Add($"{key} [{string.Join("x", src.shape)}] vs model [{string.Join("x", t.shape)}]");
            else loaded++;
        }
        var unexpected = weights.Keys.Where(k => !target.ContainsKey(k) && skip?.Invoke(k) != true).OrderBy(k => k, StringComparer.Ordinal).ToList();
        return new WeightLoadReport(missing, unexpected, mismatched, skipped, loaded);
    }

    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="module"/>. With <paramref name="strict"/>, any missing,
    /// unexpected or mis-shaped key (outside <paramref name="skip"/>) throws before anything is copied; without it,
    /// matching keys are copied and the rest reported.
    /// </summary>
    public static WeightLoadReport Load(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, bool strict = true, Func<string, bool>? skip = null, string? source = null)
    {
        var report = Check(module, weights, skip);
        if (strict && !report.IsExact)
            throw new WeightMismatchException($"{source ?? "weights"} do not match the model: {report}", report);
        using var _ = no_grad();
        foreach (var (key, t) in module.state_dict())
        {
            if (skip?.Invoke(key) == true || !weights.TryGetValue(key, out var src) || !src.shape.SequenceEqual(t.shape)) continue;
            t.copy_(src.to(t.dtype, t.device));
        }
        return report;
    }

    /// <summary>Reads a file and loads it strictly; the error names the file.</summary>
    public static WeightLoadReport LoadFile(nn.Module module, string path, bool strict = true, Func<string, bool>? skip = null)
    {
        var weights = Read(path);
        try { return Load(module, weights, strict, skip, path); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
    }
}
