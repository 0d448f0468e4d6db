// A small builder over the generated ONNX messages (Proto/OnnxSubset.g.cs): nodes with typed attributes,
// float initializers from TorchSharp tensors, tensor-typed graph inputs and outputs with symbolic dimensions.
using System.Runtime.InteropServices;
using Google.Protobuf;
using SpineXR.Vision.Onnx.Proto;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>Accumulates one ONNX graph; <see cref="ToModel"/> wraps it in a model for the default (ai.onnx) domain.</summary>
public sealed class OnnxGraph
{
    private readonly GraphProto _graph;
    private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);

    public OnnxGraph(string name) => _graph = new GraphProto { Name = name };

    /// <summary>Names of the initializers added so far.</summary>
    public IReadOnlyCollection<string> Initializers => _initializers;

    /// <summary>Nodes added so far (topological order, as added).</summary>
    public int NodeCount => _graph.Node.Count;

    /// <summary>Adds a float32 graph input; a string dimension is symbolic (e.g. "batch"), a long is fixed.</summary>
    public void AddInput(string name, params object[] dims) => _graph.Input.Add(ValueInfo(name, dims));

    /// <summary>Adds a float32 graph output; dimensions as in <see cref="AddInput"/>.</summary>
    public void AddOutput(string name, params object[] dims) => _graph.Output.Add(ValueInfo(name, dims));

    /// <summary>Adds an int64 graph output; dimensions as in <see cref="AddInput"/>.</summary>
    public void AddInt64Output(string name, params object[] dims) =>
        _graph.Output.Add(ValueInfo(name, dims, TensorProto.Types.DataType.Int64));

    /// <summary>Adds a 1-D int64 constant (shapes, axes, slice bounds) as an initializer.</summary>
    public string AddInt64Initializer(string name, params long[] values) =>
        AddConstant(name, TensorProto.Types.DataType.Int64, [values.Length], t => t.Int64Data.AddRange(values));

    /// <summary>Adds a 0-dimensional int64 constant (Range bounds, Equal operands) as an initializer.</summary>
    public string AddInt64Scalar(string name, long value) =>
        AddConstant(name, TensorProto.Types.DataType.Int64, [], t => t.Int64Data.Add(value));

    /// <summary>Adds a 0-dimensional float32 constant (a scale, a clamp bound) as an initializer.</summary>
    public string AddFloatScalar(string name, float value) =>
        AddConstant(name, TensorProto.Types.DataType.Float, [], t => t.FloatData.Add(value));

    private string AddConstant(string name, TensorProto.Types.DataType type, long[] dims, Action<TensorProto> fill)
    {
        if (!_initializers.Add(name)) throw new InvalidOperationException($"initializer '{name}' added twice");
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        fill(t);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds <paramref name="value"/> (converted to contiguous float32) as an initializer named <paramref name="name"/>.</summary>
    public string AddInitializer(string name, Tensor value)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data export needs a little-endian machine");
        if (!_initializers.Add(name)) throw new InvalidOperationException($"initializer '{name}' added twice");
        using var f = value.detach().to(ScalarType.Float32).cpu().contiguous();
        float[] data = f.data<float>().ToArray();
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(f.shape);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())); // raw_data: little-endian IEEE 754, as ONNX requires
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a node of <paramref name="opType"/> and returns its single output name (<paramref name="output"/>, also the node's name).</summary>
    public string Node(string opType, string output, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        NamedNode(output, opType, output, inputs, attributes);

    /// <summary>
    /// Adds a node named <paramref name="name"/> (its module path) whose single output is <paramref name="output"/>
    /// (a graph output's name); returns the output name.
    /// </summary>
    public string NamedNode(string name, string opType, string output, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = opType, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        n.Attribute.AddRange(attributes);
        _graph.Node.Add(n);
        return output;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>The model: IR version 8 (ONNX 1.10-1.12, the last that opset 17 readers all accept), one opset import.</summary>
    public ModelProto ToModel(int opset, string producerVersion, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var m = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "SpineXR",
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        foreach (var (k, v) in metadata) m.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return m;
    }

    private static ValueInfoProto ValueInfo(string name, object[] dims, TensorProto.Types.DataType type = TensorProto.Types.DataType.Float)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string p => new TensorShapeProto.Types.Dimension { DimParam = p },
                long v => new TensorShapeProto.Types.Dimension { DimValue = v },
                int v => new TensorShapeProto.Types.Dimension { DimValue = v },
                _ => throw new ArgumentException($"dimension must be a string or an integer, got {d.GetType().Name}", nameof(dims)),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
