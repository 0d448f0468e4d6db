// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// raw little-endian tensor bytes. Written here rather than through PyBridge so every length is
// bounded against the file, the header is 8-byte aligned, and writes are atomic.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SpineXR.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Weights;

/// <summary>Reads and writes <c>.safetensors</c> state dicts.</summary>
public static class SafeTensors
{
    private const long MaxHeader = 100L << 20;

    /// <summary>Reads every tensor of a safetensors file (CPU tensors; the caller disposes them).</summary>
    /// <exception cref="InvalidDataException">The file is truncated or its header is malformed; the message names the file.</exception>
    public static Dictionary<string, Tensor> Read(string path) => Read(path, out _);

    public static Dictionary<string, Tensor> Read(string path, out Dictionary<string, string> metadata)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes, out metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not a valid safetensors file: {e.Message}", e);
        }
    }

    private static Dictionary<string, Tensor> Parse(byte[] bytes, out Dictionary<string, string> metadata)
    {
        if (bytes.Length < 8) throw new InvalidDataException("shorter than its 8-byte header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen > MaxHeader || (long)headerLen > bytes.Length - 8)
            throw new InvalidDataException($"header length {headerLen} exceeds the file ({bytes.Length} bytes)");
        long dataStart = 8 + (long)headerLen;
        long dataLen = bytes.Length - dataStart;
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLen));
        metadata = [];
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var (dtype, size) = DType(entry.Value.GetProperty("dtype").GetString() ?? "");
                long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long[] off = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                if (shape.Any(d => d < 0)) throw new InvalidDataException($"'{entry.Name}': negative dimension");
                long count = 1;
                foreach (long d in shape) count = checked(count * d);
                if (off.Length != 2 || off[0] < 0 || off[1] < off[0] || off[1] > dataLen)
                    throw new InvalidDataException($"'{entry.Name}': data offsets outside the file");
                if (off[1] - off[0] != checked(count * size))
                    throw new InvalidDataException($"'{entry.Name}': {off[1] - off[0]} bytes for shape [{string.Join(", ", shape)}] of {size}-byte elements");
                var t = torch.empty(shape, dtype);
                if (count > 0) t.bytes = bytes.AsSpan((int)(dataStart + off[0]), (int)(off[1] - off[0]));
                result.Add(entry.Name, t);
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Writes tensors (any device; copied to CPU) atomically, names sorted, with optional string metadata.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        var blobs = new List<byte[]>(items.Count);
        long offset = 0;
        foreach (var (name, tensor) in items)
        {
            using var cpu = tensor.detach().cpu().contiguous();
            byte[] data = cpu.numel() == 0 ? [] : cpu.bytes.ToArray();
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = DTypeName(cpu.dtype),
                ["shape"] = cpu.shape,
                ["data_offsets"] = new[] { offset, offset + data.Length },
            };
            offset += data.Length;
            blobs.Add(data);
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8; // the reference writer pads with spaces to 8-byte alignment
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            s.Write(len);
            s.Write(json);
            for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            foreach (var b in blobs) s.Write(b);
        });
    }

    private static (ScalarType, int) DType(string name) => name switch
    {
        "F64" => (ScalarType.Float64, 8),
        "F32" => (ScalarType.Float32, 4),
        "F16" => (ScalarType.Float16, 2),
        "BF16" => (ScalarType.BFloat16, 2),
        "I64" => (ScalarType.Int64, 8),
        "I32" => (ScalarType.Int32, 4),
        "I16" => (ScalarType.Int16, 2),
        "I8" => (ScalarType.Int8, 1),
        "U8" => (ScalarType.Byte, 1),
        "BOOL" => (ScalarType.Bool, 1),
        _ => throw new InvalidDataException($"unsupported dtype '{name}'"),
    };

    private static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"dtype {t} has no safetensors name"),
    };
}
