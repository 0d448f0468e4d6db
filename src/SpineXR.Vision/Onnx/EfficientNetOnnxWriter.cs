// ONNX nodes of SpineXR's EfficientNet body (torchvision 0.14's efficientnet.py forward, eval mode): the stem
// (features.0: 3x3/2 conv, BatchNorm, SiLU), then per MBConv block the 1x1 expansion (omitted at ratio 1), the
// depthwise kxk conv (Conv with group = channels, symmetric padding (k-1)/2 as torchvision's, not TensorFlow's "same"),
// squeeze-and-excitation (GlobalAveragePool, fc1, SiLU, fc2, Sigmoid, Mul), the 1x1 projection, and the residual Add
// where torchvision adds one; stochastic depth is the identity at inference. Nodes are named by module path.
using System.Globalization;
using SpineXR.Vision.Models;

namespace SpineXR.Vision.Onnx;

/// <summary>Writes an <see cref="EfficientNet"/> body into an <see cref="OnnxModuleWriter"/>'s graph.</summary>
public static class EfficientNetOnnxWriter
{
    /// <summary>
    /// The body under <paramref name="prefix"/> ("backbone" in EfficientDet) on input <paramref name="x"/>: the outputs of
    /// features.1 .. features.7 (strides 2, 4, 8, 16, 16, 32, 32), as <see cref="EfficientNet.ForwardStages"/>.
    /// </summary>
    public static string[] Body(OnnxModuleWriter m, string prefix, EfficientNetConfig config, string x)
    {
        string p = prefix.Length == 0 ? "features" : prefix + ".features";
        var stages = config.Stages;
        string y = ConvBnAct(m, $"{p}.0", x, 3, 2, 1, activation: true);
        var outs = new string[stages.Count];
        for (int s = 0; s < stages.Count; s++)
        {
            var st = stages[s];
            for (int b = 0; b < st.NumLayers; b++)
            {
                // the first block of a stage changes channels and stride; the rest keep them (as EfficientNet's constructor)
                int inCh = b == 0 ? st.InputChannels : st.OutChannels;
                int stride = b == 0 ? st.Stride : 1;
                y = MBConv(m, $"{p}.{s + 1}.{b.ToString(CultureInfo.InvariantCulture)}", y, st, inCh, stride);
            }
            outs[s] = y;
        }
        return outs;
    }

    /// <summary>torchvision's Conv2dNormActivation: conv ".0" (no bias), BatchNorm ".1", optional SiLU ".2".</summary>
    private static string ConvBnAct(OnnxModuleWriter m, string prefix, string x, long k, long stride, long group, bool activation)
    {
        string y = m.Bn($"{prefix}.1", m.Conv($"{prefix}.0", x, k, stride, (k - 1) / 2, group: group));
        return activation ? m.Swish($"{prefix}.2", y) : y;
    }

    private static string MBConv(OnnxModuleWriter m, string prefix, string x, MBConvStage cnf, int inputChannels, int stride)
    {
        int expanded = EfficientNetConfig.MakeDivisible(inputChannels * (double)cnf.ExpandRatio);
        int j = 0;
        string y = x;
        if (expanded != inputChannels) y = ConvBnAct(m, $"{prefix}.block.{j++}", y, 1, 1, 1, activation: true);
        y = ConvBnAct(m, $"{prefix}.block.{j++}", y, cnf.Kernel, stride, expanded, activation: true);
        y = SqueezeExcitation(m, $"{prefix}.block.{j++}", y);
        y = ConvBnAct(m, $"{prefix}.block.{j}", y, 1, 1, 1, activation: false);
        bool residual = stride == 1 && inputChannels == cnf.OutChannels;
        return residual ? m.Graph.Node("Add", $"{prefix}.add", [y, x]) : y;
    }

    /// <summary>torchvision's SqueezeExcitation: (N, C, H, W) -> (N, C, 1, 1) mean, fc1 + SiLU, fc2 + sigmoid, times the input.</summary>
    private static string SqueezeExcitation(OnnxModuleWriter m, string prefix, string x)
    {
        var g = m.Graph;
        string s = g.Node("GlobalAveragePool", $"{prefix}.avgpool", [x]);
        s = m.Swish($"{prefix}.activation", m.Conv($"{prefix}.fc1", s, 1));
        s = g.Node("Sigmoid", $"{prefix}.scale_activation", [m.Conv($"{prefix}.fc2", s, 1)]);
        return g.Node("Mul", $"{prefix}.scale", [x, s]);
    }
}
