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
    /// Deterministic shard membership: a stable hash of the file name (not the full path, so machines that mount
    /// an archive at different places agree) modulo <paramref name="count"/>.
    /// </summary>
    public static bool InShard(string path, int index, int count)
    {
        if (count <= 1) return true;
        ulong h = Fnv1a(Path.GetFileName(path));
        return (int)(h % (ulong)count) == index;
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
