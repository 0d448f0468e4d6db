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
        Check("OpenJPEG (JPEG 2000, HTJ2K)", () => NativeCodecs.OpenJpegVersion());
        Check("CharLS (JPEG-LS)", () => NativeCodecs.CharLsVersion());
        // Not a failure: everything works on glibc malloc, only slower.
        Console.WriteLine($"{(NativeAllocator.Active ? "ok" : "note"),-7} allocator: {NativeAllocator.Describe()}");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.SomeFailed;
    }
}
