// DenseNet (Huang et al., "Densely Connected Convolutional Networks", CVPR 2017), following
// torchvision 0.14's models/densenet.py: same module tree and names (so its state dicts load
// key for key), same computation (features -> relu -> global average pool -> flatten -> classifier).
// torchvision's memory_efficient checkpointing changes memory only, not results, and is not ported.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Models;

/// <summary>Shape of a DenseNet: growth rate, layers per dense block, stem width, bottleneck factor.</summary>
/// <param name="GrowthRate">Channels each dense layer adds (k in the paper).</param>
/// <param name="BlockConfig">Number of dense layers in each of the four blocks.</param>
/// <param name="NumInitFeatures">Output channels of the 7x7 stem convolution.</param>
/// <param name="BnSize">Bottleneck width multiplier: the 1x1 conv outputs BnSize * GrowthRate channels.</param>
/// <param name="DropRate">Dropout after each dense layer (training only); 0 as torchvision's builders.</param>
public sealed record DenseNetConfig(int GrowthRate, int[] BlockConfig, int NumInitFeatures, int BnSize = 4, double DropRate = 0)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (GrowthRate <= 0) throw new ArgumentException("must be positive", nameof(GrowthRate));
        if (BlockConfig is null || BlockConfig.Length == 0 || BlockConfig.Any(n => n <= 0))
            throw new ArgumentException("needs one or more positive layer counts", nameof(BlockConfig));
        if (NumInitFeatures <= 0) throw new ArgumentException("must be positive", nameof(NumInitFeatures));
        if (BnSize <= 0) throw new ArgumentException("must be positive", nameof(BnSize));
        if (DropRate is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(DropRate));
    }

    /// <summary>Channels entering the classifier (after norm5).</summary>
    public int NumFeatures
    {
        get
        {
            int c = NumInitFeatures;
            for (int i = 0; i < BlockConfig.Length; i++)
            {
                c += BlockConfig[i] * GrowthRate;
                if (i != BlockConfig.Length - 1) c /= 2;
            }
            return c;
        }
    }
}

/// <summary>One dense layer: BN-ReLU-Conv1x1 bottleneck then BN-ReLU-Conv3x3, over the concatenation of all earlier outputs.</summary>
internal sealed class DenseLayer : Module<Tensor, Tensor>
{
    private readonly BatchNorm2d norm1;
    private readonly ReLU relu1;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d norm2;
    private readonly ReLU relu2;
    private readonly Conv2d conv2;
    private readonly double _dropRate;

    public DenseLayer(long inputFeatures, int growthRate, int bnSize, double dropRate) : base("DenseLayer")
    {
        norm1 = BatchNorm2d(inputFeatures);
        relu1 = ReLU(inplace: true);
        conv1 = Conv2d(inputFeatures, bnSize * growthRate, kernel_size: 1, stride: 1, bias: false);
        norm2 = BatchNorm2d(bnSize * growthRate);
        relu2 = ReLU(inplace: true);
        conv2 = Conv2d(bnSize * growthRate, growthRate, kernel_size: 3, stride: 1, padding: 1, bias: false);
        _dropRate = dropRate;
        RegisterComponents();
    }

    /// <summary>(N, C_in, H, W) -> (N, growth, H, W); the caller concatenates.</summary>
    public override Tensor forward(Tensor concatenated)
    {
        var bottleneck = conv1.call(relu1.call(norm1.call(concatenated)));
        var y = conv2.call(relu2.call(norm2.call(bottleneck)));
        return _dropRate > 0 ? functional.dropout(y, _dropRate, training) : y;
    }
}

/// <summary>A dense block: layer i sees the block input and the outputs of layers 1..i-1, concatenated on channels.</summary>
internal sealed class DenseBlock : Module<Tensor, Tensor>
{
    private readonly List<DenseLayer> _layers = [];

    public DenseBlock(int numLayers, long inputFeatures, int growthRate, int bnSize, double dropRate) : base("DenseBlock")
    {
        for (int i = 0; i < numLayers; i++)
        {
            var layer = new DenseLayer(inputFeatures + i * growthRate, growthRate, bnSize, dropRate);
            _layers.Add(layer);
            register_module($"denselayer{i + 1}", layer); // torchvision numbers layers from 1
        }
    }

    public override Tensor forward(Tensor input)
    {
        // Intermediate concatenations are freed as soon as the next one exists.
        using var scope = NewDisposeScope();
        var features = new List<Tensor>(_layers.Count + 1) { input };
        foreach (var layer in _layers)
        {
            using var cat = torch.cat(features, dim: 1);
            features.Add(layer.call(cat));
        }
        return torch.cat(features, dim: 1).MoveToOuterDisposeScope(); // (N, C_in + L*growth, H, W)
    }
}

/// <summary>Transition between blocks: BN-ReLU-Conv1x1 halving channels, then 2x2 average pooling.</summary>
internal sealed class Transition : Module<Tensor, Tensor>
{
    private readonly BatchNorm2d norm;
    private readonly ReLU relu;
    private readonly Conv2d conv;
    private readonly AvgPool2d pool;

    public Transition(long inputFeatures, long outputFeatures) : base("Transition")
    {
        norm = BatchNorm2d(inputFeatures);
        relu = ReLU(inplace: true);
        conv = Conv2d(inputFeatures, outputFeatures, kernel_size: 1, stride: 1, bias: false);
        pool = AvgPool2d(kernel_size: 2, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => pool.call(conv.call(relu.call(norm.call(x))));
}

/// <summary>
/// DenseNet image classifier with torchvision's parameter names (<c>features.conv0</c>,
/// <c>features.denseblock1.denselayer1.norm1</c>, <c>features.norm5</c>, <c>classifier</c>) and a
/// timm-style interface: <see cref="ForwardFeatures"/>, <see cref="ForwardHead"/>, <see cref="ResetClassifier"/>.
/// </summary>
public sealed class DenseNet : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private Linear classifier;

    /// <summary>The configuration this network was built from.</summary>
    public DenseNetConfig Config { get; }

    /// <summary>Number of logits the head produces.</summary>
    public int NumClasses { get; private set; }

    /// <summary>Channels of the final feature map (input of the classifier).</summary>
    public int NumFeatures => Config.NumFeatures;

    public DenseNet(DenseNetConfig config, int numClasses = 1000) : base("DenseNet")
    {
        config.Validate();
        if (numClasses <= 0) throw new ArgumentException("must be positive", nameof(numClasses));
        Config = config;
        NumClasses = numClasses;

        var stages = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv0", Conv2d(3, config.NumInitFeatures, kernel_size: 7, stride: 2, padding: 3, bias: false)),
            ("norm0", BatchNorm2d(config.NumInitFeatures)),
            ("relu0", ReLU(inplace: true)),
            ("pool0", MaxPool2d(kernel_size: 3, stride: 2, padding: 1)),
        };
        long channels = config.NumInitFeatures;
        for (int i = 0; i < config.BlockConfig.Length; i++)
        {
            int layers = config.BlockConfig[i];
            stages.Add(($"denseblock{i + 1}", new DenseBlock(layers, channels, config.GrowthRate, config.BnSize, config.DropRate)));
            channels += layers * config.GrowthRate;
            if (i != config.BlockConfig.Length - 1)
            {
                stages.Add(($"transition{i + 1}", new Transition(channels, channels / 2)));
                channels /= 2;
            }
        }
        stages.Add(("norm5", BatchNorm2d(channels)));
        features = Sequential(stages.ToArray());
        classifier = Linear(channels, numClasses);
        RegisterComponents();
        InitWeights();
    }

    /// <summary>torchvision's initialisation: Kaiming-normal convolutions, unit/zero BatchNorm, zero classifier bias.</summary>
    private void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight);
                    break;
                case BatchNorm2d bn:
                    init.ones_(bn.weight);
                    init.zeros_(bn.bias);
                    break;
                case Linear linear when linear.bias is not null:
                    init.zeros_(linear.bias);
                    break;
            }
        }
    }

    /// <summary>(N, 3, H, W) -> (N, NumFeatures, H/32, W/32): the rectified output of norm5.</summary>
    public Tensor ForwardFeatures(Tensor x) => functional.relu(features.call(x));

    /// <summary>(N, NumFeatures, h, w) -> (N, NumClasses) logits, or the pooled (N, NumFeatures) when <paramref name="preLogits"/>.</summary>
    public Tensor ForwardHead(Tensor featureMap, bool preLogits = false)
    {
        var pooled = torch.flatten(functional.adaptive_avg_pool2d(featureMap, [1, 1]), 1); // (N, C, 1, 1) -> (N, C)
        return preLogits ? pooled : classifier.call(pooled);
    }

    public override Tensor forward(Tensor x) => ForwardHead(ForwardFeatures(x));

    /// <summary>Replaces the head with a freshly initialised linear layer of <paramref name="numClasses"/> outputs.</summary>
    public void ResetClassifier(int numClasses)
    {
        if (numClasses <= 0) throw new ArgumentException("must be positive", nameof(numClasses));
        var fresh = Linear(NumFeatures, numClasses);
        using (no_grad()) init.zeros_(fresh.bias!);
        var device = classifier.weight!.device;
        register_module("classifier", null!); // unregisters the old head
        classifier.Dispose();
        classifier = fresh.to(device);
        register_module("classifier", classifier);
        NumClasses = numClasses;
    }

    /// <summary>The classifier layer (state-dict name <c>classifier</c>).</summary>
    public Linear Classifier => classifier;
}

/// <summary>Builders for the torchvision DenseNet variants plus a tiny one for tests.</summary>
public static class DenseNets
{
    public static readonly DenseNetConfig DenseNet121 = new(32, [6, 12, 24, 16], 64);
    public static readonly DenseNetConfig DenseNet161 = new(48, [6, 12, 36, 24], 96);
    public static readonly DenseNetConfig DenseNet169 = new(32, [6, 12, 32, 32], 64);
    public static readonly DenseNetConfig DenseNet201 = new(32, [6, 12, 48, 32], 64);

    /// <summary>A few-kilobyte DenseNet (growth 4, blocks 2-2-2-2, stem 8, bottleneck 2) for fast tests and golden fixtures.</summary>
    public static readonly DenseNetConfig DenseNetTiny = new(4, [2, 2, 2, 2], 8, BnSize: 2);

    /// <summary>A small DenseNet (growth 12, blocks 2-4-6-4, stem 24): about 0.3 M parameters, for CPU training in minutes.</summary>
    public static readonly DenseNetConfig DenseNetSmall = new(12, [2, 4, 6, 4], 24);

    /// <summary>Architecture names accepted by <see cref="Create"/>, mapped to their configuration.</summary>
    public static IReadOnlyDictionary<string, DenseNetConfig> Variants { get; } = new Dictionary<string, DenseNetConfig>(StringComparer.Ordinal)
    {
        ["densenet121"] = DenseNet121,
        ["densenet161"] = DenseNet161,
        ["densenet169"] = DenseNet169,
        ["densenet201"] = DenseNet201,
        ["densenet_small"] = DenseNetSmall,
        ["densenet_tiny"] = DenseNetTiny,
    };

    public static DenseNet Create(string arch, int numClasses = 1000) =>
        Variants.TryGetValue(arch, out var c)
            ? new DenseNet(c, numClasses)
            : throw new ArgumentException($"unknown DenseNet '{arch}' (known: {string.Join(", ", Variants.Keys)})", nameof(arch));

    public static DenseNet Densenet121(int numClasses = 1000) => new(DenseNet121, numClasses);
    public static DenseNet Densenet169(int numClasses = 1000) => new(DenseNet169, numClasses);
    public static DenseNet Densenet201(int numClasses = 1000) => new(DenseNet201, numClasses);
}
