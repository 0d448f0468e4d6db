// Benchmarks entry point: `dotnet run -c Release --project bench/SpineXR.Bench -- NAME [args]`.
// Each benchmark is a class implementing IBench, found by reflection; results go to stdout as a table.
namespace SpineXR.Bench;

/// <summary>A named benchmark; figures it prints go into docs/benchmarks.md.</summary>
public interface IBench
{
    string Name { get; }
    string Summary { get; }
    int Run(string[] args);
}

public static class Program
{
    public static int Main(string[] args)
    {
        // As `spinexr` does: tcmalloc under libtorch when installed (SPINEXR_ALLOCATOR=system to compare).
        SpineXR.Vision.NativeAllocator.UseFastAllocator();
        var benches = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IBench).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IBench)Activator.CreateInstance(t)!).OrderBy(b => b.Name).ToList();
        var bench = args.Length > 0 ? benches.FirstOrDefault(b => b.Name == args[0]) : null;
        if (bench == null)
        {
            Console.Error.WriteLine("usage: SpineXR.Bench NAME [args]\n" + string.Join('\n', benches.Select(b => $"  {b.Name,-20} {b.Summary}")));
            return 2;
        }
        return bench.Run(args[1..]);
    }
}
