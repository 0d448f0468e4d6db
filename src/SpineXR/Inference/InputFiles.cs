using System.Text;
using System.Text.RegularExpressions;

namespace SpineXR.Inference;

/// <summary>Turns command-line inputs (files, folders searched recursively, globs) into a sorted, de-duplicated file list.</summary>
public static class InputFiles
{
    private static readonly string[] ImageExtensions = [".dcm", ".dicom", ".png", ".dic"];

    /// <param name="inputs">Paths, folders or globs (`*`, `?`, `**` in the file part or path).</param>
    /// <param name="errors">Receives inputs that match nothing, with the reason.</param>
    public static List<string> Expand(IEnumerable<string> inputs, List<(string File, string Reason)> errors)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string input in inputs)
        {
            if (File.Exists(input)) { found.Add(Path.GetFullPath(input)); continue; }
            if (Directory.Exists(input))
            {
                int before = found.Count;
                foreach (var f in Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories))
                    if (LooksLikeImage(f)) found.Add(Path.GetFullPath(f));
                if (found.Count == before) errors.Add((input, "folder holds no DICOM or PNG files"));
                continue;
            }
            if (input.IndexOfAny(['*', '?']) >= 0)
            {
                var matches = Glob(input).ToList();
                if (matches.Count == 0) errors.Add((input, "pattern matches no file"));
                foreach (var m in matches) found.Add(m);
                continue;
            }
            errors.Add((input, "no such file or folder"));
        }
        return [.. found];
    }

    /// <summary>
    /// Up to <paramref name="count"/> of <paramref name="files"/>, evenly spread over the list (calibration images: the
    /// first N of a sorted folder would all come from the first patients).
    /// </summary>
    public static IReadOnlyList<string> Spread(IReadOnlyList<string> files, int count)
    {
        int n = Math.Min(count, files.Count);
        return Enumerable.Range(0, n).Select(i => files[(int)((long)i * files.Count / n)]).ToList();
    }

    /// <summary>DICOM or PNG by extension, or a file without extension (DICOM archives often have none) or with a DICM marker.</summary>
    public static bool LooksLikeImage(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ImageExtensions.Contains(ext)) return true;
        if (ext.Length != 0) return false;
        try
        {
            using var fs = File.OpenRead(path);
            Span<byte> head = stackalloc byte[132];
            return fs.Read(head) == 132 && head[128..132].SequenceEqual("DICM"u8);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    private static IEnumerable<string> Glob(string pattern)
    {
        string full = Path.GetFullPath(pattern);
        // The root is the longest leading part without wildcards.
        var parts = full.Split(Path.DirectorySeparatorChar);
        int firstWild = Array.FindIndex(parts, p => p.IndexOfAny(['*', '?']) >= 0);
        string root = string.Join(Path.DirectorySeparatorChar, parts[..firstWild]);
        if (root.Length == 0) root = Path.DirectorySeparatorChar.ToString();
        if (!Directory.Exists(root)) yield break;
        var regex = new Regex("^" + Regex.Escape(full).Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*")
            .Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$");
        bool deep = firstWild < parts.Length - 1 || full.Contains("**");
        foreach (var f in Directory.EnumerateFiles(root, "*", deep ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
            if (regex.IsMatch(Path.GetFullPath(f))) yield return Path.GetFullPath(f);
    }

    /// <summary>
    /// Deterministic shard membership by study: a stable hash of <see cref="ShardKey"/> modulo <paramref name="count"/>,
    /// so every image of a study lands on the same worker (and its SR series is written by one).
    /// </summary>
    public static bool InShard(string path, int index, int count)
    {
        if (count <= 1) return true;
        ulong h = Fnv1a(ShardKey(path));
        return (int)(h % (ulong)count) == index;
    }

    /// <summary>
    /// What a file is sharded by: its Study Instance UID (read from the header) for DICOM, else its file name (not
    /// the full path, so machines that mount an archive at different places agree). An unreadable file goes by its
    /// name too; the worker that gets it reports why it is unreadable.
    /// </summary>
    public static string ShardKey(string path)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                if (SpineXR.Dicom.DicomFile.Open(path, SpineXR.Dicom.DicomReadOptions.HeaderOnly).Dataset.GetString(SpineXR.Dicom.DicomTags.StudyInstanceUID)
                    is { Length: > 0 } study)
                    return "study:" + study;
            }
            catch (SpineXR.Dicom.DicomException) { }
        }
        return "file:" + Path.GetFileName(path);
    }

    /// <summary>The variable that carries the shard count next to Kubernetes' JOB_COMPLETION_INDEX (set it to the Job's completions).</summary>
    public const string ShardCountVariable = "SPINEXR_SHARD_COUNT";

    /// <summary>
    /// `--shard auto`: the shard of a Kubernetes Indexed Job worker, index from JOB_COMPLETION_INDEX and count from
    /// <see cref="ShardCountVariable"/>. Missing or invalid values are an <see cref="ArgumentException"/> naming them.
    /// </summary>
    public static (int Index, int Count) ShardFromEnvironment(Func<string, string?> variable)
    {
        string? i = variable("JOB_COMPLETION_INDEX"), n = variable(ShardCountVariable);
        if (string.IsNullOrEmpty(i)) throw new ArgumentException("--shard auto needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job)");
        if (string.IsNullOrEmpty(n)) throw new ArgumentException($"--shard auto needs {ShardCountVariable} (the Job's completions)");
        if (!int.TryParse(i, out int index) || !int.TryParse(n, out int count) || count < 1 || index < 0 || index >= count)
            throw new ArgumentException($"--shard auto: JOB_COMPLETION_INDEX={i}, {ShardCountVariable}={n}: need 0 <= index < count");
        return (index, count);
    }

    /// <summary>A file-system-safe key for a file's result: its stem plus a short hash of the full path.</summary>
    public static string ItemKey(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        var safe = new StringBuilder(stem.Length);
        foreach (char c in stem) safe.Append(char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        if (safe.Length > 80) safe.Length = 80;
        ulong h = Fnv1a(Path.GetFullPath(path));
        // All 64 bits: a 32-bit hash collides (birthday bound) around 77,000 same-stem files in an archive.
        return safe + "-" + h.ToString("x16");
    }

    /// <summary>FNV-1a 64 over UTF-8: stable across runs, machines and .NET versions (unlike string.GetHashCode).</summary>
    public static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }
}
