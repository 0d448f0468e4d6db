// The C allocator under libtorch. libtorch's CPU allocator takes every tensor from malloc; glibc serves large blocks
// with fresh mmap pages and unmaps them on free, so each forward pass page-faults all its activations in again. On the
// development machine that was a quarter of the models' CPU time spent in the kernel. tcmalloc keeps freed pages for
// reuse, with the same results (the allocator does not touch arithmetic); the figures are in docs/native.md. This is
// the remedy PyTorch's CPU performance guide gives (preload tcmalloc or jemalloc).
using System.Runtime.InteropServices;
using System.Text;

namespace SpineXR.Vision;

/// <summary>
/// Runs the process on tcmalloc (Debian libtcmalloc-minimal4) when it is installed: <see cref="UseFastAllocator"/>
/// re-executes the process with it preloaded. Set SPINEXR_ALLOCATOR=system to keep glibc malloc.
/// </summary>
public static class NativeAllocator
{
    public const string OptOutVariable = "SPINEXR_ALLOCATOR";
    private const string Preload = "LD_PRELOAD";

    /// <summary>Where Debian installs tcmalloc (libtcmalloc-minimal4), per architecture.</summary>
    public static readonly IReadOnlyList<string> Candidates =
    [
        "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
    ];

    /// <summary>The installed tcmalloc, or null.</summary>
    public static string? Installed => Candidates.FirstOrDefault(File.Exists);

    /// <summary>True when tcmalloc is mapped into this process.</summary>
    public static bool Active =>
        OperatingSystem.IsLinux() && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libtcmalloc", StringComparison.Ordinal));

    /// <summary>One line for `spinexr doctor`: which allocator serves this process and why it matters.</summary>
    public static string Describe() =>
        Active ? "tcmalloc (freed tensor memory is reused; models run about 1.5x faster than on glibc malloc)"
        : Installed is null ? "glibc malloc: install libtcmalloc-minimal4 and the models run about 1.5x faster"
        : Environment.GetEnvironmentVariable(OptOutVariable) is { Length: > 0 } optOut ? $"glibc malloc ({OptOutVariable}={optOut})"
        : $"glibc malloc (tcmalloc is installed: start with LD_PRELOAD={Installed} to use it)";

    /// <summary>
    /// The LD_PRELOAD value to restart with, or null to go on as is: already preloaded, opted out
    /// (<paramref name="optOut"/> = "system"), or no tcmalloc installed (<paramref name="library"/> null).
    /// </summary>
    public static string? RestartPreload(string? currentPreload, string? optOut, string? library)
    {
        if (library is null || string.Equals(optOut, "system", StringComparison.OrdinalIgnoreCase)) return null;
        var entries = PreloadEntries(currentPreload);
        if (entries.Any(e => e.Contains("tcmalloc", StringComparison.Ordinal) || e.Contains("jemalloc", StringComparison.Ordinal))) return null;
        return string.Join(':', entries.Prepend(library));
    }

    /// <summary>
    /// Call first in Main. On Linux with tcmalloc installed and not yet loaded, replaces this process (execve of
    /// /proc/self/exe with its own command line and environment, LD_PRELOAD added) and does not return; otherwise
    /// returns at once. In the restarted process it takes tcmalloc back out of the environment that child processes
    /// inherit (git, Python, Chromium keep their own allocator). Each option named in <paramref name="secretOptions"/>
    /// (<c>--api-key KEY</c> or <c>--api-key=KEY</c>) leaves the restarted process's command line, which every user
    /// can read in /proc, for the environment variable it maps to, which only the owner can.
    /// </summary>
    public static void UseFastAllocator(IReadOnlyDictionary<string, string>? secretOptions = null)
    {
        if (!OperatingSystem.IsLinux()) return;
        string? preload = Environment.GetEnvironmentVariable(Preload);
        string? restart = RestartPreload(preload, Environment.GetEnvironmentVariable(OptOutVariable), Installed);
        if (restart is null)
        {
            var entries = PreloadEntries(preload);
            if (Installed is { } lib && entries.Contains(lib))
            {
                string rest = string.Join(':', entries.Where(e => e != lib));
                Environment.SetEnvironmentVariable(Preload, rest.Length == 0 ? null : rest);
            }
            return;
        }
        try
        {
            var argv = NulSeparated(File.ReadAllBytes("/proc/self/cmdline"));
            var env = NulSeparated(File.ReadAllBytes("/proc/self/environ"))
                .Where(e => !StartsWith(e, Preload + "=")).Append(Encoding.UTF8.GetBytes(Preload + "=" + restart)).ToList();
            (argv, env) = MoveSecrets(argv, env, secretOptions ?? new Dictionary<string, string>());
            if (argv.Count == 0) return;
            Exec("/proc/self/exe", argv, env);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        // execve failed or /proc is unreadable: go on with glibc malloc.
    }

    /// <summary>
    /// Takes each secret option (and its value) out of <paramref name="argv"/> and sets its variable in
    /// <paramref name="env"/> instead (replacing any value there).
    /// </summary>
    internal static (List<byte[]> Argv, List<byte[]> Env) MoveSecrets(List<byte[]> argv, List<byte[]> env, IReadOnlyDictionary<string, string> secrets)
    {
        if (secrets.Count == 0) return (argv, env);
        var args = argv.Select(a => Encoding.UTF8.GetString(a)).ToList();
        var kept = new List<byte[]>();
        var moved = new Dictionary<string, string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string? name = secrets.Keys.FirstOrDefault(k => a == k || a.StartsWith(k + "=", StringComparison.Ordinal));
            if (name is null) { kept.Add(argv[i]); continue; }
            if (a == name)
            {
                if (i + 1 < args.Count) moved[secrets[name]] = args[++i];
            }
            else moved[secrets[name]] = a[(name.Length + 1)..];
        }
        var newEnv = env.Where(e => !moved.Keys.Any(v => StartsWith(e, v + "="))).ToList();
        newEnv.AddRange(moved.Select(m => Encoding.UTF8.GetBytes(m.Key + "=" + m.Value)));
        return (kept, newEnv);
    }

    /// <summary>LD_PRELOAD's entries: ld.so separates them by colons or spaces.</summary>
    private static string[] PreloadEntries(string? preload) =>
        (preload ?? "").Split([':', ' '], StringSplitOptions.RemoveEmptyEntries);

    private static bool StartsWith(byte[] entry, string prefix) =>
        entry.Length >= prefix.Length && Encoding.ASCII.GetString(entry, 0, prefix.Length) == prefix;

    private static List<byte[]> NulSeparated(byte[] data)
    {
        var list = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < data.Length; i++)
            if (data[i] == 0)
            {
                list.Add(data[start..i]);
                start = i + 1;
            }
        if (start < data.Length) list.Add(data[start..]);
        return list;
    }

    private static void Exec(string path, List<byte[]> argv, List<byte[]> env)
    {
        var handles = new List<IntPtr>();
        IntPtr Block(List<byte[]> strings)
        {
            var pointers = new IntPtr[strings.Count + 1];
            for (int i = 0; i < strings.Count; i++)
            {
                var p = Marshal.AllocHGlobal(strings[i].Length + 1);
                Marshal.Copy(strings[i], 0, p, strings[i].Length);
                Marshal.WriteByte(p, strings[i].Length, 0);
                handles.Add(p);
                pointers[i] = p;
            }
            var block = Marshal.AllocHGlobal(IntPtr.Size * pointers.Length);
            Marshal.Copy(pointers, 0, block, pointers.Length);
            handles.Add(block);
            return block;
        }
        try
        {
            execve(path, Block(argv), Block(env));
        }
        finally
        {
            foreach (var h in handles) Marshal.FreeHGlobal(h);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int execve([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr argv, IntPtr envp);
}
