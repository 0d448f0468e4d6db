namespace SpineXR.IO;

/// <summary>Writes files atomically: to a temporary sibling, then renamed over the target, so no reader sees a half file.</summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/> into a temp file next to <paramref name="path"/>, then renames it.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = full + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporaries <see cref="Write"/> left in <paramref name="folder"/> when its process was killed
    /// (NAME.PID.XXXXXXXX.tmp whose PID is no longer running); those of live processes (another shard writing into
    /// the same folder) are kept. Returns how many were removed.
    /// </summary>
    public static int RemoveStale(string folder)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (var tmp in Directory.EnumerateFiles(folder, "*.tmp"))
        {
            var parts = Path.GetFileName(tmp).Split('.');
            if (parts.Length < 4 || parts[^2].Length != 8 || !int.TryParse(parts[^3], out int pid)) continue;
            if (pid != Environment.ProcessId && IsRunning(pid)) continue;
            if (pid == Environment.ProcessId) continue;
            try { File.Delete(tmp); removed++; } catch (IOException) { }
        }
        return removed;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text) => WriteText(path, w => w.Write(text));

    /// <summary>Writes UTF-8 text (no BOM) through <paramref name="write"/> as it is produced, atomically like <see cref="Write"/>.</summary>
    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, s => { using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true); write(w); });
}
