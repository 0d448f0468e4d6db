// Post-training static int8 quantisation of an exported float graph, in ONNX's QDQ form: QuantizeLinear /
// DequantizeLinear pairs around every convolution's input and output, and int8 weights behind a DequantizeLinear.
// ONNX Runtime recognises DQ -> Conv (-> Relu) -> Q at load and runs it as one integer kernel (QLinearConv); any
// runtime that does not still computes the same float function. Weights are per output channel, symmetric, 7 bits
// ([-64, 63]): on x86 without AVX-512 VNNI, the uint8 x int8 dot products pair up in 16-bit sums that saturate with
// 8-bit weights (ONNX Runtime's own quantiser calls this reduce_range). Activations are uint8 with a zero point,
// their ranges the minimum and maximum seen on calibration inputs. What it costs and gains: docs/onnx.md#quantisation.
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Onnx.Proto;
using DataType = SpineXR.Vision.Onnx.Proto.TensorProto.Types.DataType;

namespace SpineXR.Vision.Onnx;

/// <summary>The smallest and largest value an activation took on the calibration inputs.</summary>
public readonly record struct ActivationRange(float Min, float Max)
{
    /// <summary>uint8 affine parameters covering [min(0, Min), max(0, Max)], so that 0 is exact.</summary>
    public (float Scale, byte ZeroPoint) Uint8()
    {
        float lo = Math.Min(0f, Min), hi = Math.Max(0f, Max);
        if (!(hi > lo)) return (1f, 0);
        float scale = (hi - lo) / 255f;
        return (scale, (byte)Math.Clamp(Math.Round(-lo / scale), 0, 255));
    }
}

/// <summary>BatchNorm folding, calibration and QDQ rewriting of a float ONNX model (see the file header).</summary>
public static class OnnxQuantizer
{
    /// <summary>Weights are quantised to [-WeightLimit - 1, WeightLimit]: 7 bits, see the file header.</summary>
    public const int WeightLimit = 63;

    /// <summary>Largest |quantised bias| accepted (int32 with headroom for the accumulator it is added to).</summary>
    private const double BiasLimit = 1 << 30;

    /// <summary>Metadata key describing the quantisation of a quantised export.</summary>
    public const string MetadataKey = "spinexr.quantization";

    /// <summary>
    /// A copy of <paramref name="model"/> where each Conv whose only consumer is a BatchNormalization (and whose output is
    /// not a graph output) computes both: weight scaled per output channel by gamma / sqrt(var + eps), bias
    /// beta + (bias - mean) * gamma / sqrt(var + eps), in double. Initializers nothing uses any more are dropped.
    /// </summary>
    public static ModelProto FoldBatchNorms(ModelProto model)
    {
        var m = model.Clone();
        var g = m.Graph;
        var init = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var producers = Producers(g);
        var consumers = ConsumerCounts(g);
        var outputs = g.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var removed = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var bn in g.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (!producers.TryGetValue(bn.Input[0], out var conv) || conv.OpType != "Conv") continue;
            if (consumers[conv.Output[0]] != 1 || outputs.Contains(conv.Output[0])) continue;
            if (!bn.Input.Skip(1).All(init.ContainsKey) || !init.ContainsKey(conv.Input[1])) continue;
            if (conv.Input.Count > 2 && conv.Input[2].Length > 0 && !init.ContainsKey(conv.Input[2])) continue;
            double eps = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5;
            float[] gamma = Floats(init[bn.Input[1]]), beta = Floats(init[bn.Input[2]]), mean = Floats(init[bn.Input[3]]), variance = Floats(init[bn.Input[4]]);
            var wt = init[conv.Input[1]];
            float[] w = Floats(wt);
            int channels = (int)wt.Dims[0], per = w.Length / channels;
            float[] bias = conv.Input.Count > 2 && conv.Input[2].Length > 0 ? Floats(init[conv.Input[2]]) : new float[channels];
            var fw = new float[w.Length];
            var fb = new float[channels];
            for (int o = 0; o < channels; o++)
            {
                double f = gamma[o] / Math.Sqrt(variance[o] + eps);
                for (int i = 0; i < per; i++) fw[o * per + i] = (float)(w[o * per + i] * f);
                fb[o] = (float)(beta[o] + (bias[o] - mean[o]) * f);
            }
            string wName = Unique(init, bn.Name + ".folded_weight"), bName = Unique(init, bn.Name + ".folded_bias");
            init[wName] = FloatTensor(wName, fw, wt.Dims);
            init[bName] = FloatTensor(bName, fb, [channels]);
            conv.Input[1] = wName;
            if (conv.Input.Count > 2) conv.Input[2] = bName; else conv.Input.Add(bName);
            conv.Output[0] = bn.Output[0];
            removed.Add(bn);
        }
        var kept = g.Node.Where(n => !removed.Contains(n)).ToList();
        g.Node.Clear();
        g.Node.AddRange(kept);
        var used = g.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        g.Initializer.Clear();
        g.Initializer.AddRange(init.Values.Where(t => used.Contains(t.Name)).OrderBy(t => t.Name, StringComparer.Ordinal));
        return m;
    }

    /// <summary>
    /// The tensors that get a QuantizeLinear / DequantizeLinear pair: the input of every Conv with constant weights and
    /// its output (after the Relu when a Relu is its only consumer), for the Convs where neither is a graph output (those
    /// stay float, as the Conv then does).
    /// </summary>
    public static IReadOnlyList<string> Activations(ModelProto model)
    {
        var g = model.Graph;
        var init = g.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var consumers = Consumers(g);
        var outputs = g.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string t)
        {
            if (!outputs.Contains(t) && !init.Contains(t) && seen.Add(t)) names.Add(t);
        }
        foreach (var conv in QuantizableConvs(g, init))
        {
            string y = AfterRelu(conv, consumers);
            if (outputs.Contains(conv.Input[0]) || outputs.Contains(y)) continue;
            Add(conv.Input[0]);
            Add(y);
        }
        return names;
    }

    /// <summary>A copy of <paramref name="model"/> that also outputs <paramref name="tensors"/> (float, shape left to the runtime), for calibration.</summary>
    public static ModelProto WithOutputs(ModelProto model, IEnumerable<string> tensors)
    {
        var m = model.Clone();
        var have = m.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var t in tensors.Where(have.Add))
            m.Graph.Output.Add(new ValueInfoProto { Name = t, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } } });
        return m;
    }

    /// <summary>
    /// The int8 export of a float graph: BatchNorm folded, activation ranges from <paramref name="feeds"/> (calibration
    /// inputs, one dictionary per run; <paramref name="images"/> of them in all, for the metadata), QDQ rewritten, and
    /// metadata <see cref="MetadataKey"/> saying so.
    /// </summary>
    public static ModelProto QuantizeInt8(ModelProto model, IEnumerable<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> feeds, int images)
    {
        if (images == 0) throw new ArgumentException("quantisation needs at least one calibration image", nameof(images));
        var folded = FoldBatchNorms(model);
        var quantized = Quantize(folded, Calibrate(folded, feeds));
        quantized.MetadataProps.Add(new StringStringEntryProto
        {
            Key = MetadataKey,
            Value = $"int8 QDQ: per-channel 7-bit weights, uint8 activations, min-max over {images} calibration images",
        });
        return quantized;
    }

    /// <summary>
    /// Runs <paramref name="model"/> (already folded) in ONNX Runtime on every feed of <paramref name="feeds"/> (input
    /// name to NCHW data and shape) and returns the range of each of <see cref="Activations"/>.
    /// </summary>
    public static Dictionary<string, ActivationRange> Calibrate(ModelProto model, IEnumerable<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> feeds)
    {
        var names = Activations(model);
        var probe = WithOutputs(model, names);
        var ranges = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(probe.ToByteArray(), options);
        using var run = new RunOptions();
        string[] outNames = [.. names];
        foreach (var feed in feeds)
        {
            var inputs = feed.Select(kv => OrtValue.CreateTensorValueFromMemory(kv.Value.Data, kv.Value.Shape)).ToList();
            try
            {
                using var results = session.Run(run, [.. feed.Keys], inputs, outNames);
                for (int i = 0; i < outNames.Length; i++)
                {
                    var span = results[i].GetTensorDataAsSpan<float>();
                    if (span.IsEmpty) continue;
                    float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
                    foreach (float v in span)
                    {
                        if (v < lo) lo = v;
                        if (v > hi) hi = v;
                    }
                    ranges[outNames[i]] = ranges.TryGetValue(outNames[i], out var r) ? new(Math.Min(r.Min, lo), Math.Max(r.Max, hi)) : new(lo, hi);
                }
            }
            finally
            {
                foreach (var v in inputs) v.Dispose();
            }
        }
        var missing = names.FirstOrDefault(n => !ranges.ContainsKey(n));
        if (missing is not null) throw new InvalidOperationException($"calibration saw no values of '{missing}' (no calibration inputs?)");
        return ranges;
    }

    /// <summary>
    /// The QDQ model: <paramref name="model"/> (already folded) with a QuantizeLinear / DequantizeLinear pair on each of
    /// <see cref="Activations"/> (uint8, <paramref name="ranges"/>), and each quantisable Conv's weight as int8 per output
    /// channel and its bias as int32 (scale = input scale x weight scale, as QLinearConv needs) behind a DequantizeLinear.
    /// </summary>
    public static ModelProto Quantize(ModelProto model, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        var m = model.Clone();
        var g = m.Graph;
        var init = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var activations = Activations(m).ToHashSet(StringComparer.Ordinal);
        var consumers = Consumers(g);
        // A Conv runs as an integer kernel only with Q/DQ on both sides; one whose input or output stays float (a graph
        // output, as Faster R-CNN's P2..P5 that its RPN head reads) keeps its float weights rather than dequantising them.
        var convs = QuantizableConvs(g, init.Keys.ToHashSet(StringComparer.Ordinal))
            .Where(c => activations.Contains(c.Input[0]) && activations.Contains(AfterRelu(c, consumers))).ToList();
        var scales = new Dictionary<string, (float Scale, byte ZeroPoint)>(StringComparer.Ordinal);
        foreach (var a in activations)
        {
            if (!ranges.TryGetValue(a, out var r)) throw new ArgumentException($"no calibration range for '{a}'", nameof(ranges));
            scales[a] = r.Uint8();
        }

        var newInit = new List<TensorProto>();
        // nodes to emit just before a Conv (its weight / bias DQ); by reference: protobuf messages hash by value, and the Conv's inputs change below
        var before = new Dictionary<NodeProto, List<NodeProto>>(ReferenceEqualityComparer.Instance);
        var weightsDequantized = new HashSet<string>(StringComparer.Ordinal); // shared weights (a head on every level) get one DQ
        // A bias must fit int32 at input scale x weight scale; a Conv whose input is (nearly) constant has a tiny input
        // scale, and its bias would saturate (a class head's prior bias on a dead input): such a Conv stays float.
        var weightScales = new Dictionary<string, (sbyte[] Q, float[] Scales)>(StringComparer.Ordinal);
        (sbyte[] Q, float[] Scales) Weights(string name) => weightScales.TryGetValue(name, out var w) ? w
            : weightScales[name] = QuantizeWeights(Floats(init[name]), (int)init[name].Dims[0]);
        var candidates = convs;
        convs = convs.Where(conv =>
        {
            if (conv.Input.Count < 3 || conv.Input[2].Length == 0) return true;
            float[] b = Floats(init[conv.Input[2]]);
            float sx = scales[conv.Input[0]].Scale;
            var sw = Weights(conv.Input[1]).Scales;
            return b.Select((v, o) => Math.Abs(v / ((double)sx * sw[o]))).All(q => q <= BiasLimit);
        }).ToList();

        foreach (var conv in convs)
        {
            var extra = new List<NodeProto>();
            string wName = conv.Input[1];
            var (q, ws) = Weights(wName);
            if (weightsDequantized.Add(wName))
            {
                newInit.Add(Int8Tensor(wName + ".quantized", q, init[wName].Dims));
                newInit.Add(FloatTensor(wName + ".scale", ws, [ws.Length]));
                newInit.Add(Int8Tensor(wName + ".zero_point", new sbyte[ws.Length], [ws.Length]));
                extra.Add(Dq(wName + ".dequantize", wName + ".quantized", wName + ".scale", wName + ".zero_point", wName + ".dequantized", axis: 0));
            }
            conv.Input[1] = wName + ".dequantized";
            if (conv.Input.Count > 2 && conv.Input[2].Length > 0)
            {
                float[] b = Floats(init[conv.Input[2]]);
                float sx = scales[conv.Input[0]].Scale;
                var bs = ws.Select(sw => sx * sw).ToArray();
                var bq = new int[b.Length];
                for (int o = 0; o < b.Length; o++) bq[o] = (int)Math.Round(b[o] / (double)bs[o]); // within BiasLimit: checked above
                string p = conv.Output[0] + ".bias";
                newInit.Add(Int32Tensor(p + ".quantized", bq, [b.Length]));
                newInit.Add(FloatTensor(p + ".scale", bs, [bs.Length]));
                newInit.Add(Int32Tensor(p + ".zero_point", new int[b.Length], [b.Length]));
                extra.Add(Dq(p + ".dequantize", p + ".quantized", p + ".scale", p + ".zero_point", p + ".dequantized", axis: 0));
                conv.Input[2] = p + ".dequantized";
            }
            before[conv] = extra;
        }

        // Every use of a quantised activation now reads its DequantizeLinear's output, except the input of a Conv kept
        // float: between a DQ and a Q, ONNX Runtime would quantise its float weights and bias itself at load, saturating
        // the very bias that kept it float.
        var keptFloat = candidates.Except(convs, ReferenceEqualityComparer.Instance).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var n in g.Node)
            for (int i = 0; i < n.Input.Count; i++)
                if (activations.Contains(n.Input[i]) && !(i == 0 && keptFloat.Contains(n))) n.Input[i] = n.Input[i] + ".dq";

        var nodes = new List<NodeProto>();
        void Pair(string t)
        {
            var (scale, zp) = scales[t];
            newInit.Add(FloatTensor(t + ".q_scale", [scale], []));
            newInit.Add(Uint8Tensor(t + ".q_zero_point", [zp], []));
            var q = new NodeProto { OpType = "QuantizeLinear", Name = t + ".quantize" };
            q.Input.Add(t); q.Input.Add(t + ".q_scale"); q.Input.Add(t + ".q_zero_point");
            q.Output.Add(t + ".q");
            nodes.Add(q);
            nodes.Add(Dq(t + ".dequantize", t + ".q", t + ".q_scale", t + ".q_zero_point", t + ".dq", axis: null));
        }
        foreach (var input in g.Input.Where(i => activations.Contains(i.Name))) Pair(input.Name);
        foreach (var n in g.Node.ToList())
        {
            if (before.TryGetValue(n, out var extra)) nodes.AddRange(extra);
            nodes.Add(n);
            foreach (var o in n.Output.Where(activations.Contains)) Pair(o);
        }
        g.Node.Clear();
        g.Node.AddRange(nodes);
        var used = g.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var all = init.Values.Concat(newInit).Where(t => used.Contains(t.Name)).ToList();
        g.Initializer.Clear();
        g.Initializer.AddRange(all);
        return m;
    }

    /// <summary>Per output channel: scale = max |w| / <see cref="WeightLimit"/>, q = round(w / scale) in [-64, 63].</summary>
    public static (sbyte[] Q, float[] Scales) QuantizeWeights(float[] w, int channels)
    {
        int per = w.Length / channels;
        var q = new sbyte[w.Length];
        var scales = new float[channels];
        for (int o = 0; o < channels; o++)
        {
            float amax = 0;
            for (int i = 0; i < per; i++) amax = Math.Max(amax, Math.Abs(w[o * per + i]));
            float s = amax > 0 ? amax / WeightLimit : 1f;
            scales[o] = s;
            for (int i = 0; i < per; i++) q[o * per + i] = (sbyte)Math.Clamp(Math.Round(w[o * per + i] / s), -WeightLimit - 1, WeightLimit);
        }
        return (q, scales);
    }

    private static IEnumerable<NodeProto> QuantizableConvs(GraphProto g, HashSet<string> init) =>
        g.Node.Where(n => n.OpType == "Conv" && init.Contains(n.Input[1]) && !init.Contains(n.Input[0])
            && (n.Input.Count < 3 || n.Input[2].Length == 0 || init.Contains(n.Input[2])));

    private static string AfterRelu(NodeProto conv, Dictionary<string, List<NodeProto>> consumers)
    {
        string y = conv.Output[0];
        return consumers.TryGetValue(y, out var c) && c.Count == 1 && c[0].OpType == "Relu" ? c[0].Output[0] : y;
    }

    private static NodeProto Dq(string name, string x, string scale, string zeroPoint, string output, int? axis)
    {
        var n = new NodeProto { OpType = "DequantizeLinear", Name = name };
        n.Input.Add(x); n.Input.Add(scale); n.Input.Add(zeroPoint);
        n.Output.Add(output);
        if (axis is int a) n.Attribute.Add(OnnxGraph.Int("axis", a));
        return n;
    }

    private static Dictionary<string, NodeProto> Producers(GraphProto g)
    {
        var d = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var n in g.Node) foreach (var o in n.Output) d[o] = n;
        return d;
    }

    private static Dictionary<string, List<NodeProto>> Consumers(GraphProto g)
    {
        var d = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var n in g.Node)
            foreach (var i in n.Input.Distinct())
                (d.TryGetValue(i, out var l) ? l : d[i] = []).Add(n);
        return d;
    }

    private static Dictionary<string, int> ConsumerCounts(GraphProto g)
    {
        var d = Consumers(g).ToDictionary(kv => kv.Key, kv => kv.Value.Count, StringComparer.Ordinal);
        foreach (var n in g.Node) foreach (var o in n.Output) d.TryAdd(o, 0);
        return d;
    }

    private static string Unique(Dictionary<string, TensorProto> init, string name)
    {
        string n = name;
        for (int k = 1; init.ContainsKey(n); k++) n = $"{name}.{k}";
        return n;
    }

    /// <summary>A float initializer's values (raw_data as the exporters write it, or float_data).</summary>
    public static float[] Floats(TensorProto t)
    {
        if (t.DataType != (int)DataType.Float) throw new InvalidDataException($"initializer '{t.Name}' is not float32");
        return t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : [.. t.FloatData];
    }

    private static TensorProto Raw<T>(string name, DataType type, T[] values, IEnumerable<long> dims) where T : unmanaged
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static TensorProto FloatTensor(string name, float[] v, IEnumerable<long> dims) => Raw(name, DataType.Float, v, dims);
    private static TensorProto Int8Tensor(string name, sbyte[] v, IEnumerable<long> dims) => Raw(name, DataType.Int8, v, dims);
    private static TensorProto Uint8Tensor(string name, byte[] v, IEnumerable<long> dims) => Raw(name, DataType.Uint8, v, dims);
    private static TensorProto Int32Tensor(string name, int[] v, IEnumerable<long> dims) => Raw(name, DataType.Int32, v, dims);
}
