using SpineXR.Dicom.Codecs;
using SpineXR.Vision;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr doctor`: checks the native libraries the pipeline loads.</summary>
public sealed class DoctorCommand : ICliCommand
{
    public string Name => "doctor";
    public string Summary => "check native dependencies (libtorch, OpenJPEG, CharLS)";
    public string Help => "usage: spinexr doctor\n\nLoads each native library the pipeline needs and prints ok or the missing Debian package.\nExit code 0 when all load, 1 otherwise.";

    public int Run(CliArgs args)
    {
        int failed = 0;
        void Check(string what, Action load)
        {
            try { load(); Console.WriteLine($"ok      {what}"); }
            catch (Exception e) { failed++; Console.WriteLine($"missing {what}: {Program.OneLine(e)}"); }
        }
        Check("libtorch (TorchSharp, CPU)", TorchRuntime.EnsureLoaded);
        Check($"TorchSharp keep-alive patch {TorchSharpPatch.Version}", () =>
        {
            if (!TorchSharpPatch.IsApplied) throw new InvalidOperationException($"{TorchSharpPatch.Location} is the unpatched assembly; rebuild with ./spinexr");
        });
        Check("OpenJPEG (JPEG 2000, HTJ2K)", () => NativeCodecs.OpenJpegVersion());
        Check("CharLS (JPEG-LS)", () => NativeCodecs.CharLsVersion());
        // Not a failure: everything works on glibc malloc, only slower.
        Console.WriteLine($"{(NativeAllocator.Active ? "ok" : "note"),-7} allocator: {NativeAllocator.Describe()}");
        if (Diagnostics.GcStress.Running) Console.WriteLine($"note    {Diagnostics.GcStress.Variable}=1: garbage collections are forced continuously (slow; for testing)");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }
}
