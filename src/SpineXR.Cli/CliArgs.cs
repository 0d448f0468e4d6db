// Minimal, predictable argument parsing for the `spinexr` command.
using System.Globalization;

using SpineXR.Dicom.Codecs;
using SpineXR.Evaluation;

namespace SpineXR.Cli;

/// <summary>Bad usage: printed as one line and exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parsed command line: positionals, `--name value` / `--name=value` options (repeatable),
/// `--flag` switches and `key=value` overrides. Options named in <see cref="ICliCommand.Flags"/> take no value.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    // `--name` with no value after it (last on the line, or followed by another `--option`): an error only if the
    // command reads that option (a typo of a flag is reported as unknown instead, and does not swallow the next one).
    private readonly HashSet<string> _valueless = new(StringComparer.Ordinal);

    /// <summary>Arguments that are neither options nor key=value overrides.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>`key=value` overrides, in order (for training configs).</summary>
    public List<KeyValuePair<string, string>> Overrides { get; } = [];

    /// <summary>What the command runs models and decodes with (set by <see cref="Program.Run"/>).</summary>
    public CliServices Services { get; internal set; } = new();

    /// <summary>Runs run directories for commands that take `--model RUN_DIR`.</summary>
    public ISplitPredictor Models => Services.Models;

    public static CliArgs Parse(IReadOnlyList<string> args, ISet<string> flagNames)
    {
        var r = new CliArgs();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (IsOption(a))
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                if (flagNames.Contains(name) || name is "help" or "verbose")
                {
                    if (value != null) throw new UsageException($"--{name} takes no value");
                    r._flags.Add(name);
                    continue;
                }
                if (value == null)
                {
                    if (i + 1 >= args.Count || IsOption(args[i + 1]))
                    {
                        r._valueless.Add(name);
                        continue;
                    }
                    value = args[++i];
                }
                if (!r._options.TryGetValue(name, out var list)) r._options[name] = list = [];
                list.Add(value);
            }
            else if (!a.StartsWith('-') && a.Contains('=') && !a.Contains('/') && char.IsLetter(a[0]))
            {
                int eq = a.IndexOf('=');
                r.Overrides.Add(new(a[..eq], a[(eq + 1)..]));
            }
            else r.Positionals.Add(a);
        }
        return r;
    }

    public bool Flag(string name) { _used.Add(name); return _flags.Contains(name); }

    private static bool IsOption(string a) => a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2;

    public string? Get(string name)
    {
        Use(name);
        return _options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public IReadOnlyList<string> GetAll(string name)
    {
        Use(name);
        return _options.TryGetValue(name, out var v) ? v : [];
    }

    // The command asks for an option that takes a value.
    private void Use(string name)
    {
        _used.Add(name);
        if (_valueless.Contains(name)) throw new UsageException($"--{name} needs a value");
    }

    public string Require(string name) => Get(name) ?? throw new UsageException($"--{name} is required");

    public int GetInt(string name, int fallback)
    {
        string? s = Get(name);
        if (s == null) return fallback;
        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new UsageException($"--{name} expects an integer, got '{s}'");
    }

    public double GetDouble(string name, double fallback)
    {
        string? s = Get(name);
        if (s == null) return fallback;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v : throw new UsageException($"--{name} expects a number, got '{s}'");
    }

    /// <summary>Options given on the command line that the command never asked for (typos).</summary>
    public IEnumerable<string> Unused() =>
        _options.Keys.Concat(_flags).Concat(_valueless).Where(k => !_used.Contains(k) && k is not "help" and not "verbose");
}

/// <summary>
/// What commands are handed rather than reach for (docs/design.md "Architecture"): the models behind
/// `--model RUN_DIR`, and how DICOM frames are decoded. Tests hand stand-ins.
/// </summary>
public sealed record CliServices
{
    /// <summary>Runs a run directory on a dataset split (default: Vision's inference).</summary>
    public ISplitPredictor Models { get; init; } = new VisionSplitPredictor();

    /// <summary>How commands that choose their decoding (`dicom convert`, `serve`) start from (default: <see cref="DecodeOptions.Default"/>).</summary>
    public DecodeOptions Decode { get; init; } = DecodeOptions.Default;
}
