// The official Sparse R-CNN optimisation (projects/SparseRCNN/train_net.py and Base-SparseRCNN.yaml): AdamW with
// lr 2.5e-5 and weight decay 1e-4 on every trainable parameter, and the gradient norm of the full model
// clipped to 1.0 before each step (CLIP_TYPE full_model), which keeps training from random initialisation
// free of NaN.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Optimiser and training step for <see cref="SparseRcnn"/>.</summary>
public static class SparseRcnnTraining
{
    /// <summary>Official base learning rate (batch 16).</summary>
    public const double DefaultLearningRate = 2.5e-5;

    /// <summary>Official weight decay.</summary>
    public const double DefaultWeightDecay = 1e-4;

    /// <summary>Official full-model gradient-norm clip.</summary>
    public const double DefaultClipNorm = 1.0;

    /// <summary>AdamW over the trainable parameters.</summary>
    public static AdamW CreateOptimizer(SparseRcnn model, double lr = DefaultLearningRate, double weightDecay = DefaultWeightDecay) =>
        optim.AdamW(model.parameters().Where(p => p.requires_grad), lr, weight_decay: weightDecay);

    /// <summary>
    /// One step on a batch of (3, H, W) images in [0, 1]: summed weighted losses, backward, full-model clip, AdamW step.
    /// Returns each loss term and "loss" (the sum) as doubles, and the gradient norm before clipping as "grad_norm".
    /// </summary>
    public static Dictionary<string, double> Step(SparseRcnn model, optim.Optimizer optimizer, IReadOnlyList<Tensor> images,
        IReadOnlyList<DetectionTarget> targets, Random? rng = null, double clipNorm = DefaultClipNorm)
    {
        using var scope = NewDisposeScope();
        model.train();
        model.Backbone.KeepFrozenNormsInEval();
        optimizer.zero_grad();
        var losses = model.Losses(images, targets, rng);
        var total = losses.Values.Aggregate((a, b) => a + b);
        TorchRuntime.Backward(total);
        var parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        double norm = nn.utils.clip_grad_norm_(parameters, clipNorm);
        optimizer.step();
        var result = losses.ToDictionary(kv => kv.Key, kv => kv.Value.item<float>() * 1.0);
        result["loss"] = total.item<float>();
        result["grad_norm"] = norm;
        return result;
    }
}
