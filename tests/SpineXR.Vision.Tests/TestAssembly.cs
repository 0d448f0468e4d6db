// TorchSharp's default random generator, thread count and grad mode are process-global: tests that seed it
// (model initialisation, training determinism) must not interleave with tests that draw from it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SpineXR.Vision.Tests
{
    internal static class TestHost
    {
        /// <summary>SPINEXR_GC_STRESS=1 stresses the whole test run as it does the CLI (docs/native.md).</summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void Initialize() => SpineXR.Diagnostics.GcStress.StartIfRequested();
    }
}
