// Mini-batch sampling of positives and negatives as torchvision's _utils.BalancedPositiveNegativeSampler.
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>Per image, picks at most BatchSizePerImage * PositiveFraction positives (label >= 1) and fills with negatives (label 0); -1 is ignored.</summary>
public sealed class BalancedPositiveNegativeSampler
{
    public int BatchSizePerImage { get; }
    public double PositiveFraction { get; }

    public BalancedPositiveNegativeSampler(int batchSizePerImage, double positiveFraction)
    {
        if (batchSizePerImage < 1) throw new ArgumentException("must be positive", nameof(batchSizePerImage));
        if (positiveFraction is <= 0 or > 1) throw new ArgumentException("must be in (0, 1]", nameof(positiveFraction));
        BatchSizePerImage = batchSizePerImage;
        PositiveFraction = positiveFraction;
    }

    /// <summary>For each image's labels (N_i), boolean masks of sampled positives and negatives.</summary>
    public (Tensor[] Positive, Tensor[] Negative) Sample(IReadOnlyList<Tensor> labels, Generator? generator = null)
    {
        var pos = new Tensor[labels.Count];
        var neg = new Tensor[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            using var scope = NewDisposeScope();
            var l = labels[i];
            var positive = (l >= 1).nonzero().squeeze(1);
            var negative = (l == 0).nonzero().squeeze(1);
            long numPos = Math.Min(positive.numel(), (long)(BatchSizePerImage * PositiveFraction));
            long numNeg = Math.Min(negative.numel(), BatchSizePerImage - numPos);
            var posIdx = positive.index_select(0, randperm(positive.numel(), generator: generator).narrow(0, 0, numPos));
            var negIdx = negative.index_select(0, randperm(negative.numel(), generator: generator).narrow(0, 0, numNeg));
            pos[i] = zeros_like(l, ScalarType.Bool).index_fill_(0, posIdx, true).MoveToOuterDisposeScope();
            neg[i] = zeros_like(l, ScalarType.Bool).index_fill_(0, negIdx, true).MoveToOuterDisposeScope();
        }
        return (pos, neg);
    }
}
