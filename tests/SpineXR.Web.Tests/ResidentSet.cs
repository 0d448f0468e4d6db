namespace SpineXR.Web.Tests;

/// <summary>The process's resident set from /proc (native memory included, unlike GC.GetTotalMemory).</summary>
public static class ResidentSet
{
    /// <summary>VmRSS in bytes.</summary>
    public static long Current() => Read("VmRSS:");

    /// <summary>VmHWM in bytes: the highest resident set since start or the last <see cref="ResetPeak"/>.</summary>
    public static long Peak() => Read("VmHWM:");

    /// <summary>Resets VmHWM to the current resident set (Linux: "5" to /proc/self/clear_refs).</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }
}
