// The iterative head of Sparse R-CNN (Sun et al., CVPR 2021), following the official
// projects/SparseRCNN/sparsercnn/head.py: a DynamicHead holding head_series.N RCNNHeads; each stage pools
// 7x7 RoI features for its boxes, lets the proposal features attend to each other (self_attn), mixes each
// RoI with its own proposal feature through a dynamic convolution (inst_interact), applies an FFN and
// predicts class logits and box deltas that refine the stage's boxes. Field names are the checkpoint keys.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Detection;

/// <summary>Pools (N*Q, C, R, R) RoI features from pyramid levels for boxes (N, Q, 4) xyxy in batch-image pixels.</summary>
public delegate Tensor RoIPoolerFn(IReadOnlyList<Tensor> features, Tensor boxes);

/// <summary>Multi-head self-attention with torch.nn.MultiheadAttention's parameters (in_proj_weight, in_proj_bias, out_proj).</summary>
public sealed class ProposalSelfAttention : Module<Tensor, Tensor>
{
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
    private readonly int _heads;
    private readonly double _dropout;

    public ProposalSelfAttention(long dim, int heads, double dropout) : base(nameof(ProposalSelfAttention))
    {
        if (dim % heads != 0) throw new ArgumentException($"{dim} channels do not split into {heads} heads", nameof(heads));
        _heads = heads;
        _dropout = dropout;
        in_proj_weight = new Parameter(empty(3 * dim, dim));
        in_proj_bias = new Parameter(zeros(3 * dim));
        out_proj = Linear(dim, dim);
        using (no_grad())
        {
            init.xavier_uniform_(in_proj_weight);
            out_proj.bias!.zero_();
        }
        RegisterComponents();
    }

    /// <summary>x (L, B, E) -> (L, B, E); every element attends to all L in its batch column.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long l = x.shape[0], b = x.shape[1], e = x.shape[2], hd = e / _heads;
        var qkv = functional.linear(x, in_proj_weight, in_proj_bias).chunk(3, -1);
        // (L, B, E) -> (L, B*H, hd) -> (B*H, L, hd)
        Tensor Split(Tensor t) => t.reshape(l, b * _heads, hd).transpose(0, 1);
        var q = Split(qkv[0]) * (1.0 / Math.Sqrt(hd));
        var k = Split(qkv[1]);
        var v = Split(qkv[2]);
        var attn = functional.softmax(bmm(q, k.transpose(1, 2)), -1); // (B*H, L, L)
        if (training && _dropout > 0) attn = functional.dropout(attn, _dropout, true);
        // (B*H, L, hd) -> (L, B*H, hd) -> (L, B, E)
        var o = bmm(attn, v).transpose(0, 1).reshape(l, b, e);
        return out_proj.call(o).MoveToOuterDisposeScope();
    }
}

/// <summary>Instance-interactive dynamic convolution: two 1x1 "convolutions" over an RoI whose kernels are generated from its proposal feature.</summary>
public sealed class DynamicConv : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dynamic_layer;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;
    private readonly ReLU activation;
    private readonly Linear out_layer;
    private readonly LayerNorm norm3;
    private readonly long _hidden;
    private readonly long _dynamic;

    public DynamicConv(long hiddenDim, long dimDynamic, int numDynamic, int poolerResolution) : base(nameof(DynamicConv))
    {
        if (numDynamic != 2) throw new ArgumentException("the official dynamic convolution has exactly two dynamic layers", nameof(numDynamic));
        _hidden = hiddenDim;
        _dynamic = dimDynamic;
        dynamic_layer = Linear(hiddenDim, numDynamic * hiddenDim * dimDynamic);
        norm1 = LayerNorm(dimDynamic);
        norm2 = LayerNorm(hiddenDim);
        activation = ReLU();
        out_layer = Linear(hiddenDim * poolerResolution * poolerResolution, hiddenDim);
        norm3 = LayerNorm(hiddenDim);
        RegisterComponents();
    }

    /// <summary>proposal (1, K, d), roi (R*R, K, d) -> (K, d).</summary>
    public override Tensor forward(Tensor proposal, Tensor roi)
    {
        using var scope = NewDisposeScope();
        var features = roi.permute(1, 0, 2); // (K, R*R, d)
        var parameters = dynamic_layer.call(proposal).permute(1, 0, 2); // (K, 1, 2*d*dd)
        long n = _hidden * _dynamic;
        var param1 = parameters.narrow(2, 0, n).reshape(-1, _hidden, _dynamic); // (K, d, dd)
        var param2 = parameters.narrow(2, n, n).reshape(-1, _dynamic, _hidden); // (K, dd, d)
        features = activation.call(norm1.call(bmm(features, param1))); // (K, R*R, dd)
        features = activation.call(norm2.call(bmm(features, param2))); // (K, R*R, d)
        features = features.flatten(1); // (K, R*R*d)
        return activation.call(norm3.call(out_layer.call(features))).MoveToOuterDisposeScope();
    }
}

/// <summary>One refinement stage: RoI pooling, self-attention, dynamic interaction, FFN, class and box predictors.</summary>
public sealed class RCNNHead : Module<IReadOnlyList<Tensor>, Tensor, Tensor, (Tensor Logits, Tensor Boxes, Tensor Features)>
{
    /// <summary>The official clamp on dw, dh before exp: log(100000 / 16).</summary>
    public static readonly double DefaultScaleClamp = Math.Log(100000.0 / 16);

    private readonly ProposalSelfAttention self_attn;
    private readonly DynamicConv inst_interact;
    private readonly Linear linear1;
    private readonly Dropout dropout;
    private readonly Linear linear2;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;
    private readonly LayerNorm norm3;
    private readonly Dropout dropout1;
    private readonly Dropout dropout2;
    private readonly Dropout dropout3;
    private readonly ModuleList<Module<Tensor, Tensor>> cls_module;
    private readonly ModuleList<Module<Tensor, Tensor>> reg_module;
    private readonly Linear class_logits;
    private readonly Linear bboxes_delta;
    private readonly long _dim;
    private readonly RoIPoolerFn _pooler;
    private readonly double[] _weights = [2.0, 2.0, 1.0, 1.0];
    private readonly double _scaleClamp = DefaultScaleClamp;

    public RCNNHead(SparseRcnnConfig o, RoIPoolerFn pooler) : base(nameof(RCNNHead))
    {
        _dim = o.HiddenDim;
        _pooler = pooler;
        self_attn = new ProposalSelfAttention(o.HiddenDim, o.NumAttentionHeads, o.Dropout);
        inst_interact = new DynamicConv(o.HiddenDim, o.DimDynamic, o.NumDynamic, o.PoolerResolution);
        linear1 = Linear(o.HiddenDim, o.DimFeedforward);
        dropout = Dropout(o.Dropout);
        linear2 = Linear(o.DimFeedforward, o.HiddenDim);
        norm1 = LayerNorm(o.HiddenDim);
        norm2 = LayerNorm(o.HiddenDim);
        norm3 = LayerNorm(o.HiddenDim);
        dropout1 = Dropout(o.Dropout);
        dropout2 = Dropout(o.Dropout);
        dropout3 = Dropout(o.Dropout);
        cls_module = new ModuleList<Module<Tensor, Tensor>>(Tower(o.HiddenDim, o.NumClsLayers));
        reg_module = new ModuleList<Module<Tensor, Tensor>>(Tower(o.HiddenDim, o.NumRegLayers));
        class_logits = Linear(o.HiddenDim, o.NumClasses);
        bboxes_delta = Linear(o.HiddenDim, 4);
        RegisterComponents();
    }

    // (Linear without bias, LayerNorm, ReLU) x n, flat as the official nn.ModuleList.
    private static Module<Tensor, Tensor>[] Tower(long dim, int n) =>
        Enumerable.Range(0, n).SelectMany(_ => new Module<Tensor, Tensor>[] { Linear(dim, dim, hasBias: false), LayerNorm(dim), ReLU() }).ToArray();

    /// <summary>
    /// features: pyramid levels; boxes (N, Q, 4) xyxy in batch pixels (no gradient); proposal features (N*Q, d) or (1, N*Q, d).
    /// Returns logits (N, Q, C), refined boxes (N, Q, 4) and the new proposal features (1, N*Q, d).
    /// </summary>
    public override (Tensor Logits, Tensor Boxes, Tensor Features) forward(IReadOnlyList<Tensor> features, Tensor boxes, Tensor proposal)
    {
        using var scope = NewDisposeScope();
        long n = boxes.shape[0], q = boxes.shape[1];

        // (N*Q, d, R, R) -> (N*Q, d, R*R) -> (R*R, N*Q, d)
        var roi = _pooler(features, boxes).reshape(n * q, _dim, -1).permute(2, 0, 1);

        // Self-attention among the Q proposals of each image: (N, Q, d) -> (Q, N, d).
        var pro = proposal.reshape(n, q, _dim).permute(1, 0, 2);
        pro = norm1.call(pro + dropout1.call(self_attn.call(pro)));

        // (Q, N, d) -> (N, Q, d) -> (1, N*Q, d)
        pro = pro.permute(1, 0, 2).reshape(1, n * q, _dim);
        var obj = norm2.call(pro + dropout2.call(inst_interact.call(pro, roi)));

        var ffn = linear2.call(dropout.call(functional.relu(linear1.call(obj))));
        obj = norm3.call(obj + dropout3.call(ffn)); // (1, N*Q, d)

        var fc = obj.transpose(0, 1).reshape(n * q, -1); // (N*Q, d)
        var cls = fc;
        foreach (var layer in cls_module) cls = layer.call(cls);
        var reg = fc;
        foreach (var layer in reg_module) reg = layer.call(reg);
        var logits = class_logits.call(cls).reshape(n, q, -1);
        var deltas = bboxes_delta.call(reg);
        var pred = ApplyDeltas(deltas, boxes.reshape(-1, 4), _weights, _scaleClamp).reshape(n, q, 4);
        return (logits.MoveToOuterDisposeScope(), pred.MoveToOuterDisposeScope(), obj.MoveToOuterDisposeScope());
    }

    /// <summary>Box deltas (K, 4) (dx, dy, dw, dh) applied to boxes (K, 4) xyxy with weights (wx, wy, ww, wh); dw, dh clamped above.</summary>
    public static Tensor ApplyDeltas(Tensor deltas, Tensor boxes, IReadOnlyList<double> weights, double scaleClamp)
    {
        using var scope = NewDisposeScope();
        boxes = boxes.to(deltas.dtype);
        var widths = boxes.select(1, 2) - boxes.select(1, 0);
        var heights = boxes.select(1, 3) - boxes.select(1, 1);
        var cx = boxes.select(1, 0) + 0.5 * widths;
        var cy = boxes.select(1, 1) + 0.5 * heights;
        var dx = deltas.select(1, 0) / weights[0];
        var dy = deltas.select(1, 1) / weights[1];
        var dw = (deltas.select(1, 2) / weights[2]).clamp_max(scaleClamp);
        var dh = (deltas.select(1, 3) / weights[3]).clamp_max(scaleClamp);
        var pcx = dx * widths + cx;
        var pcy = dy * heights + cy;
        var pw = exp(dw) * widths;
        var ph = exp(dh) * heights;
        return stack([pcx - 0.5 * pw, pcy - 0.5 * ph, pcx + 0.5 * pw, pcy + 0.5 * ph], 1).MoveToOuterDisposeScope();
    }
}

/// <summary>The stack of <see cref="RCNNHead"/> stages (head_series), each refining the previous stage's detached boxes.</summary>
public sealed class DynamicHead : Module<IReadOnlyList<Tensor>, Tensor, Tensor, (Tensor Logits, Tensor Boxes)>
{
    private readonly ModuleList<RCNNHead> head_series;
    private readonly bool _deepSupervision;

    public DynamicHead(SparseRcnnConfig o, RoIPoolerFn pooler) : base(nameof(DynamicHead))
    {
        head_series = new ModuleList<RCNNHead>(Enumerable.Range(0, o.NumStages).Select(_ => new RCNNHead(o, pooler)).ToArray());
        _deepSupervision = o.DeepSupervision;
        RegisterComponents();
        ResetParameters(o);
    }

    // As the official _reset_parameters: Xavier-uniform on every matrix, and the focal-loss prior on the
    // class_logits bias, so that every class starts at probability PriorProb and the first focal losses stay
    // small. (The official sets every parameter whose last dimension equals the class count; for 7 classes
    // that is the same set, but with 4 classes it would also hit bboxes_delta.bias, so we name it.)
    private void ResetParameters(SparseRcnnConfig o)
    {
        double bias = -Math.Log((1 - o.PriorProb) / o.PriorProb);
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (p.dim() > 1) init.xavier_uniform_(p);
            if (name.EndsWith("class_logits.bias", StringComparison.Ordinal)) p.fill_(bias);
        }
    }

    /// <summary>
    /// features: pyramid levels; boxes (N, Q, 4) initial proposals in batch pixels; proposal features (Q, d) shared by the batch.
    /// Returns logits (S, N, Q, C) and boxes (S, N, Q, 4) of every stage S (only the last when deep supervision is off).
    /// </summary>
    public override (Tensor Logits, Tensor Boxes) forward(IReadOnlyList<Tensor> features, Tensor boxes, Tensor proposalFeatures)
    {
        using var scope = NewDisposeScope();
        long n = boxes.shape[0];
        // (Q, d) -> (1, N*Q, d): the same learned features for every image
        var pro = proposalFeatures.unsqueeze(0).repeat(1, n, 1);
        var logits = new List<Tensor>();
        var preds = new List<Tensor>();
        var current = boxes;
        foreach (var stage in head_series)
        {
            var (l, b, f) = stage.call(features, current, pro);
            logits.Add(l);
            preds.Add(b);
            pro = f;
            current = b.detach();
        }
        if (!_deepSupervision)
            return (logits[^1].unsqueeze(0).MoveToOuterDisposeScope(), preds[^1].unsqueeze(0).MoveToOuterDisposeScope());
        return (stack(logits).MoveToOuterDisposeScope(), stack(preds).MoveToOuterDisposeScope());
    }
}
