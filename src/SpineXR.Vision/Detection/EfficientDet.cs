// EfficientDet (Tan, Pang and Le, "EfficientDet: Scalable and Efficient Object Detection", CVPR 2020) with the module
// tree and names of rwightman's effdet (efficientdet_d0..d3, the PyTorch-padding variants): an EfficientNet backbone
// (torchvision's names, so ImageNet weights load; effdet's timm names are mapped by EfficientDetWeights), P6/P7 made
// from P5 by a 1x1 conv + BN and max-pooling, BiFPN cells with fast normalised fusion (w_i = relu(e_i),
// out = sum w_i x_i / (sum w_i + 1e-4)) followed by swish and a depthwise-separable conv + BN, class and box nets whose
// separable convs are shared across levels (BatchNorm per level), 9 anchors per location (octave scales 2^(0,1/3,2/3)
// x aspect (1,1), (1.4,0.7), (0.7,1.4), anchor scale 4), focal loss (alpha 0.25, gamma 1.5) and Huber box loss
// (delta 0.1, weight 50) normalised by positives + 1, and class-wise NMS at inference. Box outputs are in effdet's
// order (ty, tx, th, tw). Labels start at 0.
using System.Globalization;
using SpineXR.Vision.Detection.Ops;
using SpineXR.Vision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Detection;

/// <summary>An EfficientDet; <see cref="D"/> gives the published D0-D3 scaling.</summary>
public sealed record EfficientDetConfig
{
    /// <summary>Backbone scaling (EfficientNet-B0 for D0 ... B3 for D3).</summary>
    public EfficientNetConfig Backbone { get; init; } = EfficientNets.Variants["efficientnet_b0"] with { StochasticDepthProb = 0.1 };

    /// <summary>BiFPN and head width (D0 64, D1 88, D2 112, D3 160).</summary>
    public int FpnChannels { get; init; } = 64;

    /// <summary>BiFPN cells (D0 3, D1 4, D2 5, D3 6).</summary>
    public int FpnCellRepeats { get; init; } = 3;

    /// <summary>Separable convs in the class and box nets before the output conv (D0-D2 3, D3 4).</summary>
    public int BoxClassRepeats { get; init; } = 3;

    /// <summary>Object classes (no background).</summary>
    public int NumClasses { get; init; } = 90;

    /// <summary>Training shortest-edge sizes (one drawn per image; the longer edge is capped at <see cref="ImageSize"/>).</summary>
    public int[] MinSize { get; init; } = [512];

    /// <summary>Longest image edge (D0 512, D1 640, D2 768, D3 896); batches are padded to multiples of 128 (P7's stride).</summary>
    public int ImageSize { get; init; } = 512;

    /// <summary>Anchor side at octave scale 1 and aspect (1, 1) is AnchorScale x the level's stride.</summary>
    public double AnchorScale { get; init; } = 4.0;

    public double ScoreThresh { get; init; } = 0.05;
    public double NmsThresh { get; init; } = 0.5;
    public int DetectionsPerImage { get; init; } = 100;
    public int TopkCandidates { get; init; } = 1000;

    /// <summary>Anchors with IoU >= this match a box (effdet's ArgMaxMatcher 0.5/0.5; each box also keeps its best anchor).</summary>
    public double MatchThreshold { get; init; } = 0.5;

    public double FocalAlpha { get; init; } = 0.25;
    public double FocalGamma { get; init; } = 1.5;
    public double HuberDelta { get; init; } = 0.1;
    public double BoxLossWeight { get; init; } = 50;

    /// <summary>The published compound scaling for D<paramref name="phi"/> (0..3).</summary>
    public static EfficientDetConfig D(int phi, int numClasses = 90)
    {
        var (backbone, size, width, cells, heads) = phi switch
        {
            0 => ("efficientnet_b0", 512, 64, 3, 3),
            1 => ("efficientnet_b1", 640, 88, 4, 3),
            2 => ("efficientnet_b2", 768, 112, 5, 3),
            3 => ("efficientnet_b3", 896, 160, 6, 4),
            _ => throw new ArgumentException("EfficientDet D0..D3", nameof(phi)),
        };
        return new EfficientDetConfig
        {
            // effdet trains its backbone with drop_path_rate 0.1
            Backbone = EfficientNets.Variants[backbone] with { StochasticDepthProb = 0.1 },
            ImageSize = size, MinSize = [size], FpnChannels = width, FpnCellRepeats = cells, BoxClassRepeats = heads, NumClasses = numClasses,
        };
    }

    internal void Validate()
    {
        Backbone.Validate();
        if (NumClasses < 1) throw new ArgumentException("at least one class", nameof(NumClasses));
        if (FpnChannels < 1) throw new ArgumentException("must be positive", nameof(FpnChannels));
        if (FpnCellRepeats < 1) throw new ArgumentException("must be positive", nameof(FpnCellRepeats));
        if (BoxClassRepeats < 1) throw new ArgumentException("must be positive", nameof(BoxClassRepeats));
        if (ImageSize < 128) throw new ArgumentException("must be >= 128", nameof(ImageSize));
        if (MinSize.Length == 0 || MinSize.Any(s => s < 1)) throw new ArgumentException("positive sizes", nameof(MinSize));
        if (!(AnchorScale > 0)) throw new ArgumentException("must be positive", nameof(AnchorScale));
    }
}

/// <summary>effdet's batch-norm settings (TensorFlow's: eps 1e-3, momentum 0.01) for the BiFPN and the heads.</summary>
internal static class EffdetNorm
{
    public const double Eps = 1e-3;

    public static BatchNorm2d Create(long channels) => BatchNorm2d(channels, eps: Eps, momentum: 0.01);
}

/// <summary>effdet's ConvBnAct2d without activation: <c>conv</c> then optional <c>bn</c>.</summary>
public sealed class ConvBn : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d? bn;

    public ConvBn(long inCh, long outCh, long kernel, bool norm) : base(nameof(ConvBn))
    {
        conv = Conv2d(inCh, outCh, kernel, padding: (kernel - 1) / 2, bias: !norm);
        if (norm) bn = EffdetNorm.Create(outCh);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (bn is null) return conv.call(x);
        using var y = conv.call(x);
        return bn.call(y);
    }
}

/// <summary>effdet's SeparableConv2d: depthwise kxk <c>conv_dw</c>, pointwise 1x1 <c>conv_pw</c>, optional <c>bn</c>.</summary>
public sealed class SeparableConv2d : Module<Tensor, Tensor>
{
    private readonly Conv2d conv_dw, conv_pw;
    private readonly BatchNorm2d? bn;

    public SeparableConv2d(long inCh, long outCh, bool pwBias, bool norm) : base(nameof(SeparableConv2d))
    {
        conv_dw = Conv2d(inCh, inCh, 3, padding: 1, groups: inCh, bias: false);
        conv_pw = Conv2d(inCh, outCh, 1, bias: pwBias);
        if (norm) bn = EffdetNorm.Create(outCh);
        RegisterComponents();
    }

    public Conv2d Depthwise => conv_dw;
    public Conv2d Pointwise => conv_pw;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = conv_pw.call(conv_dw.call(x));
        if (bn is not null) y = bn.call(y);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// effdet's ResampleFeatureMap: a 1x1 <c>conv</c> + BN when the channel count changes, then 3x3/2 max-pooling to a
/// coarser level or 2x nearest upsampling to a finer one.
/// </summary>
public sealed class ResampleFeatureMap : Module<Tensor, Tensor>
{
    private readonly ConvBn? conv;
    private readonly int _levelShift;

    /// <param name="levelShift">Target level minus input level (-1, 0 or +1 in BiFPN).</param>
    public ResampleFeatureMap(long inCh, long outCh, int levelShift) : base(nameof(ResampleFeatureMap))
    {
        if (inCh != outCh) conv = new ConvBn(inCh, outCh, 1, norm: true);
        _levelShift = levelShift;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = conv is null ? x.alias() : conv.call(x);
        if (_levelShift > 0) y = functional.max_pool2d(y, 3, 2, 1);
        else if (_levelShift < 0) y = functional.interpolate(y, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>effdet's FpnCombine: each input resampled to the node's level, then fast normalised fusion with <c>edge_weights</c>.</summary>
public sealed class FpnCombine : Module<IReadOnlyList<Tensor>, Tensor>
{
    private readonly Parameter edge_weights;
    private readonly int[] _offsets;
    private readonly List<ResampleFeatureMap> _resample = [];
    private readonly Module resample;

    public FpnCombine(int[] offsets, IReadOnlyList<(long Channels, int Level)> inputs, long fpnChannels, int targetLevel) : base(nameof(FpnCombine))
    {
        _offsets = offsets;
        resample = new ModuleContainer("resample");
        foreach (int o in offsets)
        {
            var r = new ResampleFeatureMap(inputs[o].Channels, fpnChannels, targetLevel - inputs[o].Level);
            _resample.Add(r);
            resample.register_module(o.ToString(CultureInfo.InvariantCulture), r);
        }
        edge_weights = new Parameter(ones(offsets.Length));
        RegisterComponents();
    }

    /// <summary>The raw learned weights e_i, one per input.</summary>
    public Parameter EdgeWeights => edge_weights;

    /// <summary>Fusion weights relu(e_i) / (sum relu(e_j) + 1e-4): non-negative, summing to just under 1.</summary>
    public Tensor NormalisedWeights()
    {
        using var scope = NewDisposeScope();
        var w = functional.relu(edge_weights);
        using Scalar eps = 1e-4.ToScalar();
        return (w / (w.sum() + eps)).MoveToOuterDisposeScope();
    }

    public override Tensor forward(IReadOnlyList<Tensor> features)
    {
        using var scope = NewDisposeScope();
        var w = NormalisedWeights();
        Tensor? sum = null;
        for (int i = 0; i < _offsets.Length; i++)
        {
            var term = _resample[i].call(features[_offsets[i]]) * w[i];
            sum = sum is null ? term : sum + term;
        }
        return sum!.MoveToOuterDisposeScope();
    }
}

/// <summary>A parameterless holder whose children carry checkpoint names (effdet's ModuleDict/ModuleList levels).</summary>
internal sealed class ModuleContainer(string name) : Module(name);

/// <summary>One BiFPN node: <c>combine</c>, then <c>after_combine</c> (swish <c>act</c>, separable <c>conv</c> + BN).</summary>
public sealed class Fnode : Module<IReadOnlyList<Tensor>, Tensor>
{
    private readonly FpnCombine combine;
    private readonly Sequential after_combine;

    public Fnode(FpnCombine combine, long channels) : base(nameof(Fnode))
    {
        this.combine = combine;
        after_combine = Sequential(("act", SiLU()), ("conv", new SeparableConv2d(channels, channels, pwBias: false, norm: true)));
        RegisterComponents();
    }

    public FpnCombine Combine => combine;

    public override Tensor forward(IReadOnlyList<Tensor> features)
    {
        using var fused = combine.call(features);
        return after_combine.call(fused);
    }
}

/// <summary>One BiFPN cell over P3-P7: top-down nodes P6..P3, then bottom-up P4..P7 (effdet's "bifpn_fa" graph).</summary>
public sealed class BiFpnLayer : Module<IReadOnlyList<Tensor>, Tensor[]>
{
    /// <summary>(level, input offsets): offsets 0-4 are the cell's inputs P3-P7, 5 and on the nodes in order.</summary>
    public static readonly (int Level, int[] Inputs)[] Nodes =
    [
        (6, [3, 4]), (5, [2, 5]), (4, [1, 6]), (3, [0, 7]),
        (4, [1, 7, 8]), (5, [2, 6, 9]), (6, [3, 5, 10]), (7, [4, 11]),
    ];

    private readonly Module fnode;
    private readonly List<Fnode> _nodes = [];

    public BiFpnLayer(IReadOnlyList<long> inputChannels, long fpnChannels) : base(nameof(BiFpnLayer))
    {
        var info = inputChannels.Select((c, i) => (c, i + 3)).ToList();
        fnode = new ModuleContainer("fnode");
        for (int i = 0; i < Nodes.Length; i++)
        {
            var n = new Fnode(new FpnCombine(Nodes[i].Inputs, info, fpnChannels, Nodes[i].Level), fpnChannels);
            _nodes.Add(n);
            fnode.register_module(i.ToString(CultureInfo.InvariantCulture), n);
            info.Add((fpnChannels, Nodes[i].Level));
        }
        RegisterComponents();
    }

    public IReadOnlyList<Fnode> FNodes => _nodes;

    /// <summary>P3-P7 in, P3-P7 out (the last five nodes).</summary>
    public override Tensor[] forward(IReadOnlyList<Tensor> features)
    {
        var all = new List<Tensor>(features);
        foreach (var n in _nodes) all.Add(n.call(all));
        // the intermediate top-down nodes P6 and P5 are not outputs; they belong to the caller's dispose scope
        return all.Skip(all.Count - 5).ToArray();
    }
}

/// <summary>BiFPN: <c>resample</c> makes P6 (1x1 conv + BN, max-pool) and P7 (max-pool) from P5; then <c>cell</c>.N.</summary>
public sealed class BiFpn : Module<Tensor[], Tensor[]>
{
    private readonly Module resample, cell;
    // P6 and P7 makers, held in a list so that they are registered only under resample.3 and resample.4
    private readonly List<ResampleFeatureMap> _extra = [];
    private readonly List<BiFpnLayer> _cells = [];

    public BiFpn(IReadOnlyList<long> backboneChannels, long fpnChannels, int repeats) : base(nameof(BiFpn))
    {
        if (backboneChannels.Count != 3) throw new ArgumentException("P3-P5 channels", nameof(backboneChannels));
        resample = new ModuleContainer("resample");
        _extra.Add(new ResampleFeatureMap(backboneChannels[2], fpnChannels, 1));
        _extra.Add(new ResampleFeatureMap(fpnChannels, fpnChannels, 1));
        resample.register_module("3", _extra[0]);
        resample.register_module("4", _extra[1]);
        cell = new ModuleContainer("cell");
        IReadOnlyList<long> channels = [.. backboneChannels, fpnChannels, fpnChannels];
        for (int r = 0; r < repeats; r++)
        {
            var layer = new BiFpnLayer(channels, fpnChannels);
            _cells.Add(layer);
            cell.register_module(r.ToString(CultureInfo.InvariantCulture), layer);
            channels = Enumerable.Repeat(fpnChannels, 5).ToArray();
        }
        RegisterComponents();
    }

    public IReadOnlyList<BiFpnLayer> Cells => _cells;

    /// <summary>Backbone (C3, C4, C5) -> (P3..P7), each (N, fpnChannels, H/2^l, W/2^l).</summary>
    public override Tensor[] forward(Tensor[] c)
    {
        using var scope = NewDisposeScope();
        var p6 = _extra[0].call(c[2]);
        Tensor[] x = [c[0], c[1], c[2], p6, _extra[1].call(p6)];
        foreach (var layer in _cells) x = layer.call(x);
        foreach (var t in x) t.MoveToOuterDisposeScope();
        return x;
    }
}

/// <summary>
/// effdet's HeadNet: <c>conv_rep</c>.i separable convs shared by every level, <c>bn_rep</c>.i.level.bn per level, swish,
/// and the <c>predict</c> separable conv with bias.
/// </summary>
public sealed class HeadNet : Module<Tensor[], Tensor>
{
    private readonly Module conv_rep, bn_rep;
    private readonly SeparableConv2d predict;
    private readonly List<SeparableConv2d> _convs = [];
    private readonly List<BatchNorm2d[]> _bns = [];
    private readonly long _perAnchor;

    public HeadNet(long channels, int repeats, int levels, long numAnchors, long perAnchor, bool classification) : base(nameof(HeadNet))
    {
        _perAnchor = perAnchor;
        conv_rep = new ModuleContainer("conv_rep");
        bn_rep = new ModuleContainer("bn_rep");
        for (int i = 0; i < repeats; i++)
        {
            var conv = new SeparableConv2d(channels, channels, pwBias: false, norm: false);
            _convs.Add(conv);
            conv_rep.register_module(i.ToString(CultureInfo.InvariantCulture), conv);
            var perLevel = new ModuleContainer("levels");
            var bns = new BatchNorm2d[levels];
            for (int l = 0; l < levels; l++)
            {
                bns[l] = EffdetNorm.Create(channels);
                var seq = new ModuleContainer("bn_seq");
                seq.register_module("bn", bns[l]);
                perLevel.register_module(l.ToString(CultureInfo.InvariantCulture), seq);
            }
            _bns.Add(bns);
            bn_rep.register_module(i.ToString(CultureInfo.InvariantCulture), perLevel);
        }
        predict = new SeparableConv2d(channels, numAnchors * perAnchor, pwBias: true, norm: false);
        RegisterComponents();
        InitWeights(classification);
    }

    /// <summary>effdet's initialisation of the heads: variance-scaling normal (std sqrt(1/fan_in)), class prior 0.01.</summary>
    private void InitWeights(bool classification)
    {
        using var _ = no_grad();
        foreach (var conv in _convs.Append(predict))
        {
            foreach (var w in new[] { conv.Depthwise.weight!, conv.Pointwise.weight! })
            {
                long fanIn = w.shape[1] * w.shape[2] * w.shape[3];
                init.normal_(w, 0, Math.Sqrt(1.0 / fanIn));
            }
        }
        using Scalar bias = (classification ? -Math.Log((1 - 0.01) / 0.01) : 0).ToScalar();
        init.constant_(predict.Pointwise.bias!, bias);
    }

    /// <summary>Per-level maps -> (N, sum HWA, perAnchor), anchors in generation order.</summary>
    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var outs = new Tensor[features.Length];
        for (int level = 0; level < features.Length; level++)
        {
            var x = features[level];
            for (int i = 0; i < _convs.Count; i++) x = functional.silu(_bns[i][level].call(_convs[i].call(x)));
            var y = predict.call(x);
            long n = y.shape[0], h = y.shape[2], w = y.shape[3];
            // (N, A*K, H, W) -> (N, A, K, H, W) -> (N, H, W, A, K) -> (N, HWA, K)
            outs[level] = y.view(n, -1, _perAnchor, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, _perAnchor);
        }
        return cat(outs, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>The EfficientNet body as a detection backbone: <c>features</c>.0-7 (torchvision's names), C3-C5 out.</summary>
public static class EfficientDetBackbone
{
    /// <summary>Indices into <see cref="EfficientNet.ForwardStages"/> of C3 (stride 8), C4 (16) and C5 (32): features.3, .5, .7.</summary>
    public static readonly int[] StageIndices = [2, 4, 6];

    public static long[] Channels(EfficientNetConfig c) => StageIndices.Select(i => (long)c.StageChannels[i]).ToArray();
}

/// <summary>
/// EfficientDet anchors: at level l (stride s = 2^l, P3-P7) and every cell centre (s/2 + i s), for each octave scale
/// q in (0, 1/3, 2/3) and aspect (ax, ay) in ((1, 1), (1.4, 0.7), (0.7, 1.4)) in that order, a box of width
/// AnchorScale s 2^q ax and height AnchorScale s 2^q ay; xyxy.
/// </summary>
public static class EfficientDetAnchors
{
    public static readonly (double X, double Y)[] Aspects = [(1.0, 1.0), (1.4, 0.7), (0.7, 1.4)];
    public const int NumScales = 3;
    public static int PerLocation => NumScales * Aspects.Length;

    /// <summary>(sum over levels of H*W*9, 4) for a padded batch (batchH, batchW) and the levels' feature sizes.</summary>
    public static Tensor Generate(long batchH, long batchW, IReadOnlyList<(long H, long W)> featureSizes, double anchorScale)
    {
        int total = featureSizes.Sum(f => (int)(f.H * f.W)) * PerLocation;
        var data = new float[total * 4];
        int k = 0;
        foreach (var (gh, gw) in featureSizes)
        {
            double sy = (double)batchH / gh, sx = (double)batchW / gw;
            for (long y = 0; y < gh; y++)
            for (long x = 0; x < gw; x++)
            {
                double cy = sy / 2 + y * sy, cx = sx / 2 + x * sx;
                for (int q = 0; q < NumScales; q++)
                foreach (var (ax, ay) in Aspects)
                {
                    double octave = Math.Pow(2, q / (double)NumScales);
                    double hw = anchorScale * sx * octave * ax / 2, hh = anchorScale * sy * octave * ay / 2;
                    data[k++] = (float)(cx - hw);
                    data[k++] = (float)(cy - hh);
                    data[k++] = (float)(cx + hw);
                    data[k++] = (float)(cy + hh);
                }
            }
        }
        return tensor(data).view(-1, 4);
    }
}

/// <summary>EfficientDet: <c>backbone</c> (EfficientNet body), <c>fpn</c> (BiFPN), <c>class_net</c> and <c>box_net</c>.</summary>
public sealed class EfficientDet : nn.Module, IObjectDetector
{
    private readonly EfficientNet backbone;
    private readonly BiFpn fpn;
    private readonly HeadNet class_net, box_net;
    private readonly BoxCoder _coder = new(1, 1, 1, 1);
    private readonly Matcher _matcher;
    private readonly GeneralizedRCNNTransform _transform;
    private readonly EfficientDetPostProcess _post;

    public EfficientDetConfig Config { get; }
    public int FirstClassLabel => 0;
    public int NumObjectClasses => Config.NumClasses;
    public BiFpn Fpn => fpn;

    public EfficientDet(EfficientDetConfig config) : base(nameof(EfficientDet))
    {
        config.Validate();
        Config = config;
        backbone = new EfficientNet(config.Backbone, numClasses: 0);
        fpn = new BiFpn(EfficientDetBackbone.Channels(config.Backbone), config.FpnChannels, config.FpnCellRepeats);
        class_net = new HeadNet(config.FpnChannels, config.BoxClassRepeats, 5, EfficientDetAnchors.PerLocation, config.NumClasses, classification: true);
        box_net = new HeadNet(config.FpnChannels, config.BoxClassRepeats, 5, EfficientDetAnchors.PerLocation, 4, classification: false);
        _matcher = new Matcher(config.MatchThreshold, config.MatchThreshold, allowLowQualityMatches: true);
        _transform = InputTransform(config);
        _post = new EfficientDetPostProcess(config);
        RegisterComponents();
        InitFpn();
    }

    /// <summary>Normalise by ImageNet mean/std, resize so the longer side is at most ImageSize, zero-pad to multiples of 128 (P7's stride).</summary>
    public static GeneralizedRCNNTransform InputTransform(EfficientDetConfig config) =>
        new(config.MinSize, config.ImageSize, sizeDivisible: 128);

    /// <summary>effdet's BiFPN initialisation: Glorot-uniform convs (fan average; depthwise fan-out divided by groups), zero biases.</summary>
    private void InitFpn()
    {
        using var _ = no_grad();
        foreach (var (_, m) in fpn.named_modules())
        {
            if (m is not Conv2d conv) continue;
            var w = conv.weight!;
            long receptive = w.shape[2] * w.shape[3];
            long fanIn = w.shape[1] * receptive, fanOut = w.shape[0] * receptive / (w.shape[1] == 1 ? w.shape[0] : 1);
            double limit = Math.Sqrt(3.0 / Math.Max(1.0, (fanIn + fanOut) / 2.0));
            init.uniform_(w, -limit, limit);
            if (conv.bias is not null) init.zeros_(conv.bias);
        }
    }

    /// <summary>Backbone, BiFPN, class and box nets; tensors in the caller's dispose scope.</summary>
    private (Tensor Cls, Tensor Box, (long H, long W)[] LevelSizes) Network(Tensor batch)
    {
        var stages = backbone.ForwardStages(batch);
        var features = fpn.call(EfficientDetBackbone.StageIndices.Select(i => stages[i]).ToArray());
        var cls = class_net.call(features);
        var box = box_net.call(features);
        return (cls, box, features.Select(f => (f.shape[2], f.shape[3])).ToArray());
    }

    /// <inheritdoc/>
    public Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Random? rng = null)
    {
        if (images.Count != targets.Count) throw new ArgumentException("one target per image", nameof(targets));
        rng ??= Random.Shared;
        using var scope = NewDisposeScope();
        var (list, boxes) = _transform.ResizeForTraining(images, targets.Select(t => t.Boxes).ToList(), Config.MinSize, rng);
        var (clsLogits, boxReg, levels) = Network(list.Tensors);
        var anchors = _post.Anchors(list.Tensors.shape[2], list.Tensors.shape[3], levels);
        var swap = tensor(EfficientDetPostProcess.SwapXy);
        using Scalar zero = 0L.ToScalar(), unmatched = Matcher.BelowLowThreshold.ToScalar();
        Tensor clsSum = zeros(1), boxSum = zeros(1);
        long positives = 0;
        for (int i = 0; i < images.Count; i++)
        {
            var gt = boxes[i];
            var matched = gt.shape[0] == 0 ? full(anchors.shape[0], unmatched, ScalarType.Int64) : _matcher.Match(TensorBoxOps.Iou(gt, anchors));
            var fg = matched.ge(zero).nonzero().squeeze(1);
            positives += fg.numel();
            var target = zeros_like(clsLogits[i]);
            if (fg.numel() > 0)
            {
                var fgLabels = targets[i].Labels.to(ScalarType.Int64).index_select(0, matched.index_select(0, fg));
                target.index_put_(ones(fg.numel()), fg, fgLabels);
                // targets in effdet's (ty, tx, th, tw) order, as the box net predicts them
                var regTarget = _coder.Encode(gt.index_select(0, matched.index_select(0, fg)), anchors.index_select(0, fg)).index_select(1, swap);
                boxSum = boxSum + Huber(boxReg[i].index_select(0, fg), regTarget, Config.HuberDelta);
            }
            clsSum = clsSum + FocalLoss(clsLogits[i], target, Config.FocalAlpha, Config.FocalGamma).sum();
        }
        // effdet normalises by the batch's positives + 1; the box loss also by the 4 coordinates
        double norm = positives + 1;
        using Scalar clsScale = (1 / norm).ToScalar(), boxScale = (Config.BoxLossWeight / (4 * norm)).ToScalar();
        return new Dictionary<string, Tensor>
        {
            ["classification"] = (clsSum * clsScale).squeeze().MoveToOuterDisposeScope(),
            ["bbox_regression"] = (boxSum * boxScale).squeeze().MoveToOuterDisposeScope(),
        };
    }

    /// <summary>Sigmoid focal loss, elementwise: alpha_t (1 - p_t)^gamma BCE(logits, targets).</summary>
    public static Tensor FocalLoss(Tensor logits, Tensor targets, double alpha, double gamma)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1.0.ToScalar(), g = gamma.ToScalar(), a = alpha.ToScalar(), oneMinusA = (1 - alpha).ToScalar();
        var p = sigmoid(logits);
        var ce = functional.binary_cross_entropy_with_logits(logits, targets, reduction: Reduction.None);
        // p_t = p for positives, 1 - p for negatives
        var positive = targets.to(ScalarType.Bool);
        var pt = where(positive, p, p.neg().add_(one));
        var modulator = pt.neg().add_(one).pow(g);
        var alphaT = where(positive, full_like(p, a), full_like(p, oneMinusA));
        return (alphaT * modulator * ce).MoveToOuterDisposeScope();
    }

    /// <summary>Summed Huber loss: 0.5 d^2 for |d| &lt; delta, else delta (|d| - delta / 2) (effdet's box loss).</summary>
    public static Tensor Huber(Tensor input, Tensor target, double delta)
    {
        using var scope = NewDisposeScope();
        using Scalar dl = delta.ToScalar(), half = 0.5.ToScalar();
        var err = (input - target).abs();
        var quadratic = err.clamp_max(dl);
        var linear = err - quadratic;
        return (quadratic.square().mul_(half) + linear.mul_(dl)).sum().MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var (clsLogits, boxReg, levels) = Network(list.Tensors);
        return _post.Detect(clsLogits, boxReg, list, levels, images.Select(im => (im.shape[1], im.shape[2])).ToArray())
            .Select(d => d.MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>
    /// Class and box net outputs (N, sum HWA, K) and (N, sum HWA, 4) in (ty, tx, th, tw) for an already transformed
    /// batch, and the P3..P7 sizes: the network without post-processing (export checks, benchmarks).
    /// </summary>
    public (Tensor ClsLogits, Tensor BoxRegression, (long H, long W)[] LevelSizes) HeadOutputs(Tensor batch)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (c, b, levels) = Network(batch);
        return (c.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), levels);
    }

    /// <summary>The input transform (normalise, resize, zero-pad to multiples of 128) this model applies before its network.</summary>
    public GeneralizedRCNNTransform Transform => _transform;

    /// <summary>The test-time post-processing this model applies to its heads' outputs (shared with the ONNX backend).</summary>
    public EfficientDetPostProcess PostProcess => _post;
}
