// Feature Pyramid Network (Lin et al., CVPR 2017) on a ResNet body, as torchvision 0.14's
// resnet_fpn_backbone / _resnet_fpn_extractor and ops.FeaturePyramidNetwork: 1x1 lateral convs
// (fpn.inner_blocks.i.0), 3x3 output convs (fpn.layer_blocks.i.0), nearest top-down upsampling,
// and an extra level: LastLevelMaxPool ("pool", Faster R-CNN) or LastLevelP6P7 (RetinaNet).
using SpineXR.Vision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Detection;

/// <summary>The extra pyramid levels appended after P_last.</summary>
public enum FpnExtraBlock
{
    /// <summary>One more level by max-pool (kernel 1, stride 2) of the last output; Faster R-CNN.</summary>
    LastLevelMaxPool,

    /// <summary>P6 = conv3x3/2 of P5 (or C5), P7 = conv3x3/2 of relu(P6); RetinaNet.</summary>
    LastLevelP6P7,
}

/// <summary>How a ResNet-FPN backbone is built: torchvision's resnet_fpn_backbone arguments.</summary>
public sealed record FpnBackboneConfig
{
    /// <summary>ResNet body (its NumClasses is ignored: the body has no classifier).</summary>
    public ResNetConfig Body { get; init; } = ResNetConfig.ResNet50;

    /// <summary>Stages whose outputs feed the FPN, 1-based (Faster R-CNN [1,2,3,4], RetinaNet [2,3,4]); must end with 4.</summary>
    public int[] ReturnedLayers { get; init; } = [1, 2, 3, 4];

    /// <summary>FPN channels (torchvision: 256).</summary>
    public int OutChannels { get; init; } = 256;

    public FpnExtraBlock Extra { get; init; } = FpnExtraBlock.LastLevelMaxPool;

    /// <summary>Trainable stages counted from layer4 (0..5; torchvision default 3 with pretrained weights, 5 without).</summary>
    public int TrainableLayers { get; init; } = 3;

    internal void Validate()
    {
        if (ReturnedLayers.Length == 0 || ReturnedLayers.Any(l => l is < 1 or > 4) || ReturnedLayers[^1] != 4
            || ReturnedLayers.Zip(ReturnedLayers.Skip(1)).Any(p => p.First >= p.Second))
            throw new ArgumentException("increasing stages in 1..4 ending with 4", nameof(ReturnedLayers));
        if (OutChannels < 1) throw new ArgumentException("must be positive", nameof(OutChannels));
        if (TrainableLayers is < 0 or > 5) throw new ArgumentException("must be in 0..5", nameof(TrainableLayers));
    }
}

/// <summary>Extra P6/P7 levels of RetinaNet (attribute names p6, p7).</summary>
public sealed class LastLevelP6P7 : Module<Tensor, Tensor, Tensor[]>
{
    private readonly Conv2d p6, p7;
    private readonly bool _useP5;

    public LastLevelP6P7(long inChannels, long outChannels) : base(nameof(LastLevelP6P7))
    {
        p6 = Conv2d(inChannels, outChannels, 3, stride: 2, padding: 1);
        p7 = Conv2d(outChannels, outChannels, 3, stride: 2, padding: 1);
        using (no_grad())
        {
            foreach (var c in new[] { p6, p7 })
            {
                init.kaiming_uniform_(c.weight, a: 1);
                init.zeros_(c.bias!);
            }
        }
        _useP5 = inChannels == outChannels;
        RegisterComponents();
    }

    /// <summary>Returns (P6, P7) from the last pyramid output and the last body output.</summary>
    public override Tensor[] forward(Tensor pLast, Tensor cLast)
    {
        var x = _useP5 ? pLast : cLast;
        var q6 = p6.call(x);
        using var r = functional.relu(q6);
        var q7 = p7.call(r);
        return [q6, q7];
    }
}

/// <summary>torchvision's FeaturePyramidNetwork: inner_blocks, layer_blocks, extra_blocks.</summary>
public sealed class FeaturePyramidNetwork : Module<Tensor[], Tensor[]>
{
    private readonly ModuleList<Sequential> inner_blocks, layer_blocks;
    private readonly LastLevelP6P7? extra_blocks;
    private readonly FpnExtraBlock _extra;

    public FeaturePyramidNetwork(IReadOnlyList<long> inChannels, long outChannels, FpnExtraBlock extra, long p6p7InChannels) : base(nameof(FeaturePyramidNetwork))
    {
        inner_blocks = new ModuleList<Sequential>();
        layer_blocks = new ModuleList<Sequential>();
        foreach (long c in inChannels)
        {
            // Conv2dNormActivation without norm and activation: a Sequential holding one conv at "0".
            var inner = Conv2d(c, outChannels, 1);
            var layer = Conv2d(outChannels, outChannels, 3, padding: 1);
            using (no_grad())
            {
                foreach (var conv in new[] { inner, layer })
                {
                    init.kaiming_uniform_(conv.weight, a: 1);
                    init.zeros_(conv.bias!);
                }
            }
            inner_blocks.Add(Sequential(("0", (Module<Tensor, Tensor>)inner)));
            layer_blocks.Add(Sequential(("0", (Module<Tensor, Tensor>)layer)));
        }
        _extra = extra;
        if (extra == FpnExtraBlock.LastLevelP6P7) extra_blocks = new LastLevelP6P7(p6p7InChannels, outChannels);
        RegisterComponents();
    }

    /// <summary>Pyramid outputs, finest first, extra levels last.</summary>
    public override Tensor[] forward(Tensor[] x)
    {
        int n = x.Length;
        var results = new Tensor[n];
        var lastInner = inner_blocks[n - 1].call(x[n - 1]);
        results[n - 1] = layer_blocks[n - 1].call(lastInner);
        for (int i = n - 2; i >= 0; i--)
        {
            using var lateral = inner_blocks[i].call(x[i]);
            using var topDown = functional.interpolate(lastInner, size: [lateral.shape[2], lateral.shape[3]], mode: InterpolationMode.Nearest);
            var sum = lateral + topDown;
            lastInner.Dispose();
            lastInner = sum;
            results[i] = layer_blocks[i].call(lastInner);
        }
        lastInner.Dispose();
        if (_extra == FpnExtraBlock.LastLevelMaxPool)
            return [.. results, functional.max_pool2d(results[n - 1], 1, 2, 0)];
        return [.. results, .. extra_blocks!.call(results[n - 1], x[n - 1])];
    }
}

/// <summary>ResNet body + FPN (attribute names body, fpn); outputs the pyramid levels in order ("0", "1", ..., "pool"/"p6", "p7").</summary>
public sealed class BackboneWithFpn : Module<Tensor, Tensor[]>
{
    private readonly ResNet body;
    private readonly FeaturePyramidNetwork fpn;
    private readonly int[] _returned;

    public FpnBackboneConfig Config { get; }

    /// <summary>FPN output channels.</summary>
    public long OutChannels => Config.OutChannels;

    public BackboneWithFpn(FpnBackboneConfig config) : base(nameof(BackboneWithFpn))
    {
        config.Validate();
        Config = config;
        body = new ResNet(config.Body with { NumClasses = 0 });
        body.FreezeForDetection(config.TrainableLayers);
        _returned = config.ReturnedLayers;
        var inChannels = _returned.Select(l => (long)config.Body.StageChannels(l)).ToArray();
        // torchvision: LastLevelP6P7(256, 256) for retinanet_resnet50_fpn, i.e. built from P5.
        fpn = new FeaturePyramidNetwork(inChannels, config.OutChannels, config.Extra, config.OutChannels);
        RegisterComponents();
    }

    /// <summary>The ResNet body (for weight import and freezing).</summary>
    public ResNet Body => body;

    public override Tensor[] forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var c = body.ForwardFeatures(x);
        var selected = _returned.Select(l => c[l - 1]).ToArray();
        var p = fpn.call(selected);
        foreach (var t in p) t.MoveToOuterDisposeScope();
        return p;
    }
}
