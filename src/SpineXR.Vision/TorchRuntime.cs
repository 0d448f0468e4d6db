// Native runtime checks for TorchSharp (libtorch CPU), and the one switch of libtorch's global context we need.
using System.Runtime.InteropServices;
using TorchSharp;

namespace SpineXR.Vision;

/// <summary>Loads libtorch once, checks the TorchSharp keep-alive patch, and runs backward passes deterministically.</summary>
public static class TorchRuntime
{
    /// <summary>Initialises TorchSharp's native backend; throws with a clear reason when it cannot load or is unpatched.</summary>
    public static void EnsureLoaded()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            // NNPACK would only be tried where oneDNN is off (our backward passes), and on CPUs it does not support it
            // prints "Could not initialize NNPACK! Reason: Unsupported hardware." to stderr; off, every CPU takes the
            // same convolution path.
            at_Context_setUserEnabledNNPACK(at_globalContext(), false);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                "TorchSharp's native library failed to load (" + e.Message + "); rebuild with ./spinexr so the libstdc++ fix is applied", e);
        }
        if (!TorchSharpPatch.IsApplied)
            throw new InvalidOperationException(
                $"{TorchSharpPatch.Location} lacks the keep-alive patch (garbage collections could free memory libtorch is reading); " +
                "build through SpineXR.Vision so build/TorchSharpKeepAlive.targets applies it");
    }

    /// <summary>The device models run on: CUDA when available, else CPU.</summary>
    public static torch.Device DefaultDevice => torch.cuda.is_available() ? torch.CUDA : torch.CPU;

    private static readonly object OneDnnGate = new();

    /// <summary>
    /// Back-propagates <paramref name="loss"/> with libtorch's own convolution kernels instead of oneDNN's.
    /// libtorch 2.10's oneDNN (mkldnn) convolution backward-data is not deterministic on this CPU with two threads:
    /// for DenseNet's 3x3 convolutions (48 -> 12 channels) input gradients of identical reruns differ by up to 0.44 and
    /// sometimes are not finite, so two runs of the same training diverged, and a loaded machine (GC stress) made the
    /// loss NaN at step 2. With oneDNN switched off, convolution_backward takes libtorch's native im2col + GEMM path
    /// (slow_conv2d_backward), which is deterministic. Forward passes keep oneDNN (their outputs are deterministic).
    /// The switch is process-global in libtorch, so backward passes of concurrent trainings are serialised here.
    /// See docs/native.md, "Deterministic training".
    /// </summary>
    public static void Backward(torch.Tensor loss)
    {
        lock (OneDnnGate)
        {
            var context = at_globalContext();
            bool was = at_Context_userEnabledMkldnn(context);
            at_Context_setUserEnabledMkldnn(context, false);
            try
            {
                loss.backward();
            }
            finally
            {
                at_Context_setUserEnabledMkldnn(context, was);
            }
        }
    }

    // at::globalContext() and three members of at::Context (Itanium C++ ABI: `this` is the first argument). TorchSharp
    // exposes neither; the symbols are exported by libtorch_cpu.so, which TorchSharp has loaded by then.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr at_globalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool at_Context_userEnabledMkldnn(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void at_Context_setUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void at_Context_setUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
