using System.Text.Json;

namespace SpineXR.Tests.Metrics;

/// <summary>Finds the golden fixtures made by tools/make_eval_fixtures.py (read from the source tree, not copied).</summary>
internal static class EvalFixtures
{
    public static JsonElement Load(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string p = Path.Combine(dir.FullName, "tests", "SpineXR.Tests", "Fixtures", "Metrics", name);
            if (File.Exists(p)) return JsonDocument.Parse(File.ReadAllText(p)).RootElement;
        }
        throw new FileNotFoundException("fixture not found: " + name);
    }

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
    public static bool[] Bools(this JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32() != 0).ToArray();
    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
