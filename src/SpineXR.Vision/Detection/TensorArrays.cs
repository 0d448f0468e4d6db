using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Tensor to managed array, including empty tensors (TorchSharp's accessor throws on those: an image with no detection).</summary>
public static class TensorArrays
{
    public static T[] Read<T>(Tensor t) where T : unmanaged =>
        t.numel() == 0 ? [] : t.contiguous().cpu().data<T>().ToArray();
}
