// ResNet (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016), v1.5 as torchvision's
// resnet.py: stride on the 3x3 convolution of a bottleneck, attribute names equal to torchvision's
// checkpoint keys (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, fc).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Models;

/// <summary>Which normalisation a ResNet uses: trainable batch norm, or torchvision's frozen batch norm (fixed statistics and affine).</summary>
public enum NormKind
{
    BatchNorm,
    FrozenBatchNorm,
}

/// <summary>Residual block kind: two 3x3 convolutions (ResNet-18/34) or 1x1-3x3-1x1 bottleneck (ResNet-50/101).</summary>
public enum ResidualBlockKind
{
    Basic,
    Bottleneck,
}

/// <summary>
/// A ResNet architecture. Defaults are torchvision's; <see cref="BaseWidth"/> other than 64 gives a narrow
/// network (used by small test fixtures), channel widths per stage being BaseWidth * (1, 2, 4, 8) * expansion.
/// </summary>
public sealed record ResNetConfig
{
    /// <summary>Block kind.</summary>
    public ResidualBlockKind Block { get; init; } = ResidualBlockKind.Bottleneck;

    /// <summary>Blocks per stage (layer1..layer4).</summary>
    public int[] Layers { get; init; } = [3, 4, 6, 3];

    /// <summary>Stem width and width of the first stage (torchvision: 64).</summary>
    public int BaseWidth { get; init; } = 64;

    /// <summary>Classifier outputs; 0 leaves out avgpool and <c>fc</c> (a detection body).</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Normalisation layers.</summary>
    public NormKind Norm { get; init; } = NormKind.BatchNorm;

    public static ResNetConfig ResNet18 => new() { Block = ResidualBlockKind.Basic, Layers = [2, 2, 2, 2] };
    public static ResNetConfig ResNet34 => new() { Block = ResidualBlockKind.Basic, Layers = [3, 4, 6, 3] };
    public static ResNetConfig ResNet50 => new() { Block = ResidualBlockKind.Bottleneck, Layers = [3, 4, 6, 3] };
    public static ResNetConfig ResNet101 => new() { Block = ResidualBlockKind.Bottleneck, Layers = [3, 4, 23, 3] };

    /// <summary>Looks up "resnet18", "resnet34", "resnet50" or "resnet101".</summary>
    public static ResNetConfig FromName(string name) => name.ToLowerInvariant() switch
    {
        "resnet18" => ResNet18,
        "resnet34" => ResNet34,
        "resnet50" => ResNet50,
        "resnet101" => ResNet101,
        _ => throw new ArgumentException($"unknown ResNet '{name}' (resnet18, resnet34, resnet50, resnet101)", nameof(name)),
    };

    public int Expansion => Block == ResidualBlockKind.Basic ? 1 : 4;

    /// <summary>Output channels of layer1..layer4.</summary>
    public int StageChannels(int stage) => BaseWidth * (1 << (stage - 1)) * Expansion;

    internal void Validate()
    {
        if (Layers.Length != 4 || Layers.Any(n => n < 1)) throw new ArgumentException("four stages with at least one block each", nameof(Layers));
        if (BaseWidth < 1) throw new ArgumentException("must be positive", nameof(BaseWidth));
        if (NumClasses < 0) throw new ArgumentException("must be >= 0", nameof(NumClasses));
    }
}

/// <summary>
/// Batch norm with fixed statistics and affine parameters, as torchvision.ops.FrozenBatchNorm2d:
/// y = (x - running_mean) * weight / sqrt(running_var + eps) + bias, eps = 1e-5. Buffers only, no num_batches_tracked.
/// </summary>
public sealed class FrozenBatchNorm2d : Module<Tensor, Tensor>
{
    private readonly Tensor _weight, _bias, _mean, _var;
    private readonly double _eps;

    public FrozenBatchNorm2d(long features, double eps = 1e-5) : base(nameof(FrozenBatchNorm2d))
    {
        _eps = eps;
        _weight = ones(features);
        _bias = zeros(features);
        _mean = zeros(features);
        _var = ones(features);
        register_buffer("weight", _weight);
        register_buffer("bias", _bias);
        register_buffer("running_mean", _mean);
        register_buffer("running_var", _var);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var scale = _weight * (_var + _eps).rsqrt();
        var shift = _bias - _mean * scale;
        // (C) -> (1, C, 1, 1) to broadcast over NCHW
        return (x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>Two 3x3 convolutions with an identity (or projected) shortcut.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly Module<Tensor, Tensor> bn1, bn2;
    private readonly Module<Tensor, Tensor>? downsample;

    public BasicBlock(long inplanes, long planes, long stride, Module<Tensor, Tensor>? downsample, NormKind norm) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = ResNet.MakeNorm(planes, norm);
        conv2 = Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = ResNet.MakeNorm(planes, norm);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>1x1 reduce, 3x3 (carries the stride), 1x1 expand by 4, with a shortcut.</summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly Module<Tensor, Tensor> bn1, bn2, bn3;
    private readonly Module<Tensor, Tensor>? downsample;

    public Bottleneck(long inplanes, long planes, long stride, Module<Tensor, Tensor>? downsample, NormKind norm) : base(nameof(Bottleneck))
    {
        conv1 = Conv2d(inplanes, planes, 1, bias: false);
        bn1 = ResNet.MakeNorm(planes, norm);
        conv2 = Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn2 = ResNet.MakeNorm(planes, norm);
        conv3 = Conv2d(planes, planes * 4, 1, bias: false);
        bn3 = ResNet.MakeNorm(planes * 4, norm);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        y = functional.relu(bn2.call(conv2.call(y)));
        y = bn3.call(conv3.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>ResNet image classifier or detection body; <see cref="ForwardFeatures"/> returns the four stage outputs (C2..C5).</summary>
public sealed class ResNet : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly Linear? fc;

    /// <summary>The architecture this instance was built from.</summary>
    public ResNetConfig Config { get; }

    public ResNet(ResNetConfig config) : base("ResNet")
    {
        config.Validate();
        Config = config;
        int w = config.BaseWidth;
        conv1 = Conv2d(3, w, 7, stride: 2, padding: 3, bias: false);
        bn1 = MakeNorm(w, config.Norm);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        long inplanes = w;
        layer1 = MakeStage(ref inplanes, w, config.Layers[0], 1);
        layer2 = MakeStage(ref inplanes, w * 2, config.Layers[1], 2);
        layer3 = MakeStage(ref inplanes, w * 4, config.Layers[2], 2);
        layer4 = MakeStage(ref inplanes, w * 8, config.Layers[3], 2);
        if (config.NumClasses > 0) fc = Linear(inplanes, config.NumClasses);
        RegisterComponents();
        InitWeights();
    }

    public static ResNet ResNet18(int numClasses = 1000, NormKind norm = NormKind.BatchNorm) => new(ResNetConfig.ResNet18 with { NumClasses = numClasses, Norm = norm });
    public static ResNet ResNet34(int numClasses = 1000, NormKind norm = NormKind.BatchNorm) => new(ResNetConfig.ResNet34 with { NumClasses = numClasses, Norm = norm });
    public static ResNet ResNet50(int numClasses = 1000, NormKind norm = NormKind.BatchNorm) => new(ResNetConfig.ResNet50 with { NumClasses = numClasses, Norm = norm });
    public static ResNet ResNet101(int numClasses = 1000, NormKind norm = NormKind.BatchNorm) => new(ResNetConfig.ResNet101 with { NumClasses = numClasses, Norm = norm });

    internal static Module<Tensor, Tensor> MakeNorm(long channels, NormKind norm) =>
        norm == NormKind.FrozenBatchNorm ? new FrozenBatchNorm2d(channels) : BatchNorm2d(channels);

    private Sequential MakeStage(ref long inplanes, long planes, int blocks, long stride)
    {
        long outPlanes = planes * Config.Expansion;
        Module<Tensor, Tensor>? down = null;
        if (stride != 1 || inplanes != outPlanes)
            down = Sequential(("0", (Module<Tensor, Tensor>)Conv2d(inplanes, outPlanes, 1, stride: stride, bias: false)), ("1", MakeNorm(outPlanes, Config.Norm)));
        var list = new List<(string, Module<Tensor, Tensor>)> { ("0", MakeBlock(inplanes, planes, stride, down)) };
        inplanes = outPlanes;
        for (int i = 1; i < blocks; i++) list.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), MakeBlock(inplanes, planes, 1, null)));
        return Sequential(list);
    }

    private Module<Tensor, Tensor> MakeBlock(long inplanes, long planes, long stride, Module<Tensor, Tensor>? down) =>
        Config.Block == ResidualBlockKind.Basic
            ? new BasicBlock(inplanes, planes, stride, down, Config.Norm)
            : new Bottleneck(inplanes, planes, stride, down, Config.Norm);

    private void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            if (m is Conv2d c) init.kaiming_normal_(c.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
            else if (m is BatchNorm2d b)
            {
                init.ones_(b.weight);
                init.zeros_(b.bias);
            }
        }
    }

    /// <summary>Stage outputs C2..C5 (strides 4, 8, 16, 32) for an (N, 3, H, W) batch.</summary>
    public Tensor[] ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = maxpool.call(functional.relu(bn1.call(conv1.call(x))));
        var c2 = layer1.call(y);
        var c3 = layer2.call(c2);
        var c4 = layer3.call(c3);
        var c5 = layer4.call(c4);
        var r = new[] { c2, c3, c4, c5 };
        foreach (var t in r) t.MoveToOuterDisposeScope();
        return r;
    }

    /// <summary>Class logits (N, NumClasses).</summary>
    public override Tensor forward(Tensor x)
    {
        if (fc is null) throw new InvalidOperationException("this ResNet was built without a classifier (NumClasses = 0)");
        using var scope = NewDisposeScope();
        var c5 = ForwardFeatures(x)[3];
        // (N, C, H, W) -> (N, C)
        var pooled = c5.mean([2, 3]);
        return fc.call(pooled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Freezes the stem and early stages as torchvision's <c>_resnet_fpn_extractor</c>: only the last
    /// <paramref name="trainableLayers"/> of (layer4, layer3, layer2, layer1, conv1[+bn1]) keep gradients.
    /// </summary>
    public void FreezeForDetection(int trainableLayers)
    {
        if (trainableLayers is < 0 or > 5) throw new ArgumentException($"trainable layers must be in [0, 5], got {trainableLayers}", nameof(trainableLayers));
        var train = new List<string> { "layer4", "layer3", "layer2", "layer1", "conv1" }.Take(trainableLayers).ToList();
        if (trainableLayers == 5) train.Add("bn1");
        foreach (var (name, p) in named_parameters())
            if (!train.Any(l => name.StartsWith(l, StringComparison.Ordinal))) p.requires_grad = false;
    }
}
