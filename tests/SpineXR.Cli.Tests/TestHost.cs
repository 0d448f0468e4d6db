namespace SpineXR.Cli.Tests;

internal static class TestHost
{
    /// <summary>SPINEXR_GC_STRESS=1 stresses the whole test run as it does the CLI (docs/native.md).</summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Initialize() => SpineXR.Diagnostics.GcStress.StartIfRequested();
}
