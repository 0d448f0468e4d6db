// EfficientNet-B0..B3 (Tan and Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
// ICML 2019) following torchvision 0.14's models/efficientnet.py: the same module tree and names
// (features.0 stem, features.1-7 MBConv stages, features.8 1x1 head conv, classifier.1), the same width/depth
// rounding, SiLU activations, squeeze-and-excitation on a quarter of the block's input channels, and stochastic
// depth ("row" mode) on residual blocks in training; so torchvision's ImageNet state dicts load key for key.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Models;

/// <summary>One MBConv stage before scaling: expansion ratio, kernel, stride of its first block, channels in and out, blocks.</summary>
public sealed record MBConvStage(int ExpandRatio, int Kernel, int Stride, int InputChannels, int OutChannels, int NumLayers);

/// <summary>A compound-scaled EfficientNet: width and depth multipliers over the B0 stages, classifier dropout, stochastic depth.</summary>
/// <param name="WidthMult">Channel multiplier (B0 1.0, B1 1.0, B2 1.1, B3 1.2); channels are rounded to multiples of 8.</param>
/// <param name="DepthMult">Block-count multiplier (B0 1.0, B1 1.1, B2 1.2, B3 1.4), rounded up per stage.</param>
/// <param name="Dropout">Dropout before the classifier (training only).</param>
/// <param name="StochasticDepthProb">Largest drop probability of a residual block; block i of n drops with p*i/n (torchvision 0.2).</param>
public sealed record EfficientNetConfig(double WidthMult, double DepthMult, double Dropout, double StochasticDepthProb = 0.2)
{
    /// <summary>The EfficientNet-B0 stages that every variant scales.</summary>
    public static IReadOnlyList<MBConvStage> B0Stages { get; } =
    [
        new(1, 3, 1, 32, 16, 1),
        new(6, 3, 2, 16, 24, 2),
        new(6, 5, 2, 24, 40, 2),
        new(6, 3, 2, 40, 80, 3),
        new(6, 5, 1, 80, 112, 3),
        new(6, 5, 2, 112, 192, 4),
        new(6, 3, 1, 192, 320, 1),
    ];

    public void Validate()
    {
        if (!(WidthMult > 0)) throw new ArgumentException("must be positive", nameof(WidthMult));
        if (!(DepthMult > 0)) throw new ArgumentException("must be positive", nameof(DepthMult));
        if (Dropout is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(Dropout));
        if (StochasticDepthProb is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(StochasticDepthProb));
    }

    /// <summary>torchvision's _make_divisible: round to the nearest multiple of 8, never more than 10% below.</summary>
    public static int MakeDivisible(double v, int divisor = 8)
    {
        int n = Math.Max(divisor, (int)(v + divisor / 2.0) / divisor * divisor);
        return n < 0.9 * v ? n + divisor : n;
    }

    public int Channels(int channels) => MakeDivisible(channels * WidthMult);

    public int Depth(int layers) => (int)Math.Ceiling(layers * DepthMult);

    /// <summary>The stages after scaling.</summary>
    public IReadOnlyList<MBConvStage> Stages => B0Stages
        .Select(s => s with { InputChannels = Channels(s.InputChannels), OutChannels = Channels(s.OutChannels), NumLayers = Depth(s.NumLayers) }).ToList();

    /// <summary>Output channels of stages 1..7 (features.1 .. features.7).</summary>
    public int[] StageChannels => Stages.Select(s => s.OutChannels).ToArray();

    /// <summary>Channels of the 1x1 head conv (features.8): four times the last stage's.</summary>
    public int NumFeatures => 4 * Stages[^1].OutChannels;
}

/// <summary>torchvision's Conv2dNormActivation: conv (no bias) "0", BatchNorm "1", optional SiLU "2".</summary>
internal static class ConvNormActivation
{
    public static Sequential Create(long inCh, long outCh, long kernel, long stride = 1, long groups = 1, bool activation = true, double bnEps = 1e-5, double bnMomentum = 0.1)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("0", Conv2d(inCh, outCh, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false)),
            ("1", BatchNorm2d(outCh, eps: bnEps, momentum: bnMomentum)),
        };
        if (activation) layers.Add(("2", SiLU()));
        return Sequential(layers.ToArray());
    }
}

/// <summary>torchvision's ops.SqueezeExcitation: global average pool, fc1 (1x1) + SiLU, fc2 (1x1) + sigmoid, scale the input.</summary>
internal sealed class SqueezeExcitation : Module<Tensor, Tensor>
{
    private readonly Conv2d fc1, fc2;

    public SqueezeExcitation(long channels, long squeeze) : base(nameof(SqueezeExcitation))
    {
        fc1 = Conv2d(channels, squeeze, 1);
        fc2 = Conv2d(squeeze, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var s = functional.adaptive_avg_pool2d(x, [1, 1]); // (N, C, H, W) -> (N, C, 1, 1)
        s = sigmoid(fc2.call(functional.silu(fc1.call(s))));
        return (x * s).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Stochastic depth in torchvision's "row" mode: in training each sample's residual branch is dropped with
/// probability p and the kept ones scaled by 1/(1-p); identity in eval.
/// </summary>
internal static class StochasticDepth
{
    public static Tensor Apply(Tensor x, double p, bool training)
    {
        if (!training || p == 0) return x;
        using var scope = NewDisposeScope();
        double survival = 1 - p;
        // (N, 1, 1, 1) Bernoulli(survival) per sample, scaled so the expectation is unchanged
        var noise = empty(x.shape[0], 1, 1, 1, x.dtype, x.device).bernoulli_(survival);
        using Scalar inv = (1 / survival).ToScalar();
        return (x * noise.div_(inv)).MoveToOuterDisposeScope();
    }
}

/// <summary>Mobile inverted bottleneck (block.0 expand 1x1, block.1 depthwise kxk, block.2 SE, block.3 project 1x1; expand omitted at ratio 1).</summary>
internal sealed class MBConv : Module<Tensor, Tensor>
{
    private readonly Sequential block;
    private readonly bool _residual;
    private readonly double _dropProb;

    public MBConv(MBConvStage cnf, int inputChannels, int stride, double dropProb) : base(nameof(MBConv))
    {
        _residual = stride == 1 && inputChannels == cnf.OutChannels;
        _dropProb = dropProb;
        int expanded = EfficientNetConfig.MakeDivisible(inputChannels * (double)cnf.ExpandRatio);
        var layers = new List<Module<Tensor, Tensor>>();
        if (expanded != inputChannels) layers.Add(ConvNormActivation.Create(inputChannels, expanded, 1));
        layers.Add(ConvNormActivation.Create(expanded, expanded, cnf.Kernel, stride, groups: expanded));
        layers.Add(new SqueezeExcitation(expanded, Math.Max(1, inputChannels / 4)));
        layers.Add(ConvNormActivation.Create(expanded, cnf.OutChannels, 1, activation: false));
        block = Sequential(layers.Select((m, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), m)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var y = block.call(x);
        if (!_residual) return y;
        using var scope = NewDisposeScope();
        var dropped = StochasticDepth.Apply(y, _dropProb, training);
        return (dropped + x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// EfficientNet image classifier with torchvision's parameter names (<c>features.0.0</c>, <c>features.1.0.block.0.0</c>,
/// <c>features.8.1</c>, <c>classifier.1</c>). <see cref="ForwardStages"/> gives the stage outputs a detector backbone uses.
/// </summary>
public sealed class EfficientNet : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d? avgpool;
    private readonly Sequential? classifier;
    private readonly List<Module<Tensor, Tensor>> _stages = [];

    public EfficientNetConfig Config { get; }
    public int NumClasses { get; }

    /// <param name="numClasses">Logits; 0 builds the body only (features.0-7, no head conv, pool or classifier), for detection.</param>
    public EfficientNet(EfficientNetConfig config, int numClasses = 1000) : base(nameof(EfficientNet))
    {
        config.Validate();
        if (numClasses < 0) throw new ArgumentException("must be >= 0", nameof(numClasses));
        Config = config;
        NumClasses = numClasses;
        var stages = config.Stages;
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("0", ConvNormActivation.Create(3, stages[0].InputChannels, 3, stride: 2)) };
        int total = stages.Sum(s => s.NumLayers), blockId = 0;
        for (int s = 0; s < stages.Count; s++)
        {
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < stages[s].NumLayers; b++, blockId++)
            {
                // the first block of a stage changes channels and stride; the rest keep them
                int inCh = b == 0 ? stages[s].InputChannels : stages[s].OutChannels;
                int stride = b == 0 ? stages[s].Stride : 1;
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    new MBConv(stages[s], inCh, stride, config.StochasticDepthProb * blockId / total)));
            }
            layers.Add(((s + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Sequential(blocks.ToArray())));
        }
        if (numClasses > 0) layers.Add(("8", ConvNormActivation.Create(stages[^1].OutChannels, config.NumFeatures, 1)));
        _stages.AddRange(layers.Select(l => l.Item2));
        features = Sequential(layers.ToArray());
        // with numClasses 0 the body alone: no head conv, pooling or classifier in the state dict
        if (numClasses > 0)
        {
            avgpool = AdaptiveAvgPool2d(1);
            classifier = Sequential(("0", Dropout(config.Dropout)), ("1", Linear(config.NumFeatures, numClasses)));
        }
        RegisterComponents();
        InitWeights();
    }

    /// <summary>torchvision's initialisation: Kaiming-normal (fan-out) convs, unit/zero BatchNorm, uniform(+-1/sqrt(out)) linear.</summary>
    private void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut);
                    if (conv.bias is not null) init.zeros_(conv.bias);
                    break;
                case BatchNorm2d bn:
                    init.ones_(bn.weight);
                    init.zeros_(bn.bias);
                    break;
                case Linear linear:
                    double r = 1.0 / Math.Sqrt(linear.weight!.shape[0]);
                    init.uniform_(linear.weight, -r, r);
                    init.zeros_(linear.bias!);
                    break;
            }
        }
    }

    /// <summary>Outputs of stages 1..7 (strides 2, 4, 8, 16, 16, 32, 32); index i is features.(i+1).</summary>
    public Tensor[] ForwardStages(Tensor x)
    {
        var outs = new Tensor[Config.Stages.Count];
        var y = _stages[0].call(x);
        for (int s = 0; s < outs.Length; s++)
        {
            var next = _stages[s + 1].call(y);
            outs[s] = next;
            y = next;
        }
        return outs;
    }

    /// <summary>(N, 3, H, W) -> (N, NumFeatures, H/32, W/32): the output of features.8.</summary>
    public Tensor ForwardFeatures(Tensor x)
    {
        if (NumClasses == 0) throw new InvalidOperationException("this EfficientNet was built without its head (numClasses 0)");
        return features.call(x);
    }

    /// <summary>(N, NumFeatures, h, w) -> (N, NumClasses).</summary>
    public Tensor ForwardHead(Tensor featureMap)
    {
        if (avgpool is null || classifier is null) throw new InvalidOperationException("this EfficientNet was built without its head (numClasses 0)");
        using var scope = NewDisposeScope();
        var pooled = torch.flatten(avgpool.call(featureMap), 1); // (N, C, 1, 1) -> (N, C)
        return classifier.call(pooled).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return ForwardHead(ForwardFeatures(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>Builders for torchvision's EfficientNet-B0..B3.</summary>
public static class EfficientNets
{
    /// <summary>Architecture names mapped to their scaling (torchvision's efficientnet_b0..b3).</summary>
    public static IReadOnlyDictionary<string, EfficientNetConfig> Variants { get; } = new Dictionary<string, EfficientNetConfig>(StringComparer.Ordinal)
    {
        ["efficientnet_b0"] = new(1.0, 1.0, 0.2),
        ["efficientnet_b1"] = new(1.0, 1.1, 0.2),
        ["efficientnet_b2"] = new(1.1, 1.2, 0.3),
        ["efficientnet_b3"] = new(1.2, 1.4, 0.3),
    };

    public static EfficientNetConfig ConfigFor(string arch) =>
        Variants.TryGetValue(arch, out var c) ? c
            : throw new ArgumentException($"unknown EfficientNet '{arch}' (known: {string.Join(", ", Variants.Keys)})", nameof(arch));

    public static EfficientNet Create(string arch, int numClasses = 1000) => new(ConfigFor(arch), numClasses);
}
