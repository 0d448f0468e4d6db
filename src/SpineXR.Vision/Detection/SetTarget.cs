using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Ground truth of one image for set prediction: boxes (K, 4) float32 xyxy in the image's (resized) pixels, labels (K) int64 0-based, and the image size as (W, H, W, H) float32.</summary>
public sealed record SetTarget(Tensor Boxes, Tensor Labels, Tensor ImageSizeXyxy);
