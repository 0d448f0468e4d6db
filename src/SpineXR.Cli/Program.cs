// Entry point of `spinexr`: routes to the sub-command, maps errors to one line and an exit code.
using System.Reflection;
using SpineXR.Dicom.Codecs;

// DecodeOptions.Default may start this executable as its decode host: Main serves decodes first thing.
[assembly: DecodeHostEntryPoint]

namespace SpineXR.Cli;

public static class Program
{
    /// <summary>All commands, found by reflection so a new command is one new class.</summary>
    public static IReadOnlyList<ICliCommand> Commands { get; } = typeof(Program).Assembly.GetTypes()
        .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Name, StringComparer.Ordinal)
        .ToList();

    public static int Main(string[] args)
    {
        // This executable doubles as the helper process that decodes HTJ2K, where OpenJPEG 2.5.0 can abort().
        if (DecodeHost.RunIfRequested(args)) return 0;
        // Restarts on tcmalloc when installed (models about 1.5x faster; see NativeAllocator); an --api-key moves from
        // the command line to the environment on the way, and serve then takes it out of the environment too.
        Vision.NativeAllocator.UseFastAllocator(new Dictionary<string, string> { ["--api-key"] = SpineXR.Cli.Commands.ServeCommand.KeyVariable });
        // SPINEXR_GC_STRESS=1: collections and finalizers without pause, to prove native lifetimes (docs/native.md).
        if (Diagnostics.GcStress.StartIfRequested())
            Console.Error.WriteLine($"spinexr: {Diagnostics.GcStress.Variable}=1: forcing garbage collections and finalizers continuously");
        bool verbose = args.Contains("--verbose");
        try
        {
            return Run(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine("spinexr: " + e.Message + " (see --help)");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (!verbose)
        {
            Console.Error.WriteLine("spinexr: error: " + OneLine(e));
            return ExitCodes.Usage;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("spinexr: error: " + e);
            return ExitCodes.Usage;
        }
    }

    /// <summary>
    /// Runs a command line without the top-level error mapping (tests call this), with <paramref name="services"/>
    /// (default: Vision's inference, <see cref="DecodeOptions.Default"/>).
    /// </summary>
    public static int Run(string[] args, CliServices? services = null)
    {
        var words = args.TakeWhile(a => !a.StartsWith('-')).ToList();
        ICliCommand? cmd = null;
        int taken = 0;
        foreach (var c in Commands)
        {
            var parts = c.Name.Split(' ');
            if (parts.Length <= words.Count && parts.Length > taken && parts.SequenceEqual(words.Take(parts.Length)))
            {
                cmd = c;
                taken = parts.Length;
            }
        }
        if (cmd == null)
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                Console.WriteLine(Overview(words));
                return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
            }
            if (args[0] == "--version")
            {
                Console.WriteLine("spinexr " + (typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"));
                return ExitCodes.Ok;
            }
            var prefix = Commands.Where(c => words.Count > 0 && c.Name.StartsWith(words[0] + " ", StringComparison.Ordinal)).ToList();
            if (prefix.Count > 0 && (args.Contains("--help") || words.Count == 1))
            {
                Console.WriteLine(Overview(words));
                return args.Contains("--help") ? ExitCodes.Ok : ExitCodes.Usage;
            }
            throw new UsageException($"unknown command '{string.Join(' ', words)}'");
        }
        var rest = args.Skip(taken).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.WriteLine(cmd.Help.TrimEnd());
            return ExitCodes.Ok;
        }
        var parsed = CliArgs.Parse(rest, cmd.Flags);
        if (services != null) parsed.Services = services;
        int code = cmd.Run(parsed);
        var unused = parsed.Unused().ToList();
        if (unused.Count > 0)
            Console.Error.WriteLine("spinexr: warning: ignored option(s): " + string.Join(", ", unused.Select(u => "--" + u)));
        return code;
    }

    private static string Overview(List<string> words)
    {
        var list = Commands.Where(c => words.Count == 0 || c.Name.StartsWith(words[0], StringComparison.Ordinal)).ToList();
        if (list.Count == 0) list = Commands.ToList();
        int w = list.Max(c => c.Name.Length);
        return "spinexr: spinal lesion detection on X-ray radiographs (VinDr-SpineXR in .NET)\n\nusage: spinexr COMMAND [options]   (COMMAND --help for details)\n\n" +
               string.Join('\n', list.Select(c => "  " + c.Name.PadRight(w + 2) + c.Summary));
    }

    /// <summary>The message of an exception and its inner ones on one line.</summary>
    public static string OneLine(Exception e) => Diagnostics.ErrorText.OneLine(e);
}
