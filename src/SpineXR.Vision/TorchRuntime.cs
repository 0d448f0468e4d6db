// Native runtime checks for TorchSharp (libtorch CPU).
using TorchSharp;

namespace SpineXR.Vision;

/// <summary>Loads libtorch once and reports what it runs on.</summary>
public static class TorchRuntime
{
    /// <summary>Initialises TorchSharp's native backend; throws with a clear reason when it cannot load.</summary>
    public static void EnsureLoaded()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                "TorchSharp's native library failed to load (" + e.Message + "); rebuild with ./spinexr so the libstdc++ fix is applied", e);
        }
    }

    /// <summary>The device models run on: CUDA when available, else CPU.</summary>
    public static torch.Device DefaultDevice => torch.cuda.is_available() ? torch.CUDA : torch.CPU;
}
