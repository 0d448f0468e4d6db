using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Training target of one image: boxes (K, 4) float32 xyxy in the image's input pixels, labels (K) int64 as the model numbers classes.</summary>
public sealed record DetectionTarget(Tensor Boxes, Tensor Labels);

/// <summary>What every detector takes: a grayscale image as a (3, H, W) tensor, training, inference and calibration alike.</summary>
public static class DetectorTensor
{
    /// <summary>(H*W) -> (1, H, W) -> (3, H, W): the grayscale channel repeated, as the RGB-trained models expect; mirrored left-right when <paramref name="flip"/>.</summary>
    public static Tensor FromGray(Data.GrayImageF image, bool flip = false)
    {
        var t = tensor(image.Pixels).view(1, image.Height, image.Width);
        if (flip) t = t.flip(2);
        return t.expand(3, image.Height, image.Width);
    }
}

/// <summary>A model's detections for one image: boxes (K, 4) xyxy in input pixels, scores (K), labels (K) int64, by decreasing score.</summary>
public sealed record DetectionOutput(Tensor Boxes, Tensor Scores, Tensor Labels) : IDisposable
{
    /// <summary>Moves the three tensors to the dispose scope outside the current one (for a result returned from a scope).</summary>
    public DetectionOutput MoveToOuterDisposeScope()
    {
        Boxes.MoveToOuterDisposeScope();
        Scores.MoveToOuterDisposeScope();
        Labels.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Boxes.Dispose();
        Scores.Dispose();
        Labels.Dispose();
    }
}

/// <summary>What every detector offers: losses in training, detections in evaluation.</summary>
public interface IObjectDetector : IDetectionModel
{
    /// <summary>Named loss terms for a batch of (3, H, W) images in [0, 1] and their targets (module in train mode).</summary>
    Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Random? rng = null);
}

/// <summary>Inference only: a trained detector on any engine (the libtorch module, or its ONNX export in ONNX Runtime).</summary>
public interface IDetectionModel
{
    /// <summary>Detections per image in the images' own pixels (module in eval mode, under no_grad).</summary>
    List<DetectionOutput> Detect(IReadOnlyList<Tensor> images);

    /// <summary>Labels of the first object class (Faster R-CNN 1: 0 is background; RetinaNet 0).</summary>
    int FirstClassLabel { get; }

    /// <summary>Object classes (without background).</summary>
    int NumObjectClasses { get; }
}
