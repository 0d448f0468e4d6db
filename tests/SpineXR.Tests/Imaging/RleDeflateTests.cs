using System.IO.Compression;
using SpineXR.Imaging;

namespace SpineXR.Tests.Imaging;

public class RleDeflateTests
{
    private static byte[] Inflate(byte[] zlib)
    {
        using var z = new ZLibStream(new MemoryStream(zlib), CompressionMode.Decompress);
        var ms = new MemoryStream();
        z.CopyTo(ms);
        return ms.ToArray();
    }

    public static TheoryData<string> Cases() => new() { "constant", "runs", "random", "noisy-gradient", "one-byte", "multi-block" };

    private static byte[] Make(string kind)
    {
        var r = new Random(5);
        switch (kind)
        {
            case "constant": return new byte[100_000];
            case "one-byte": return [42];
            case "runs":
            {
                var b = new List<byte>();
                while (b.Count < 50_000) b.AddRange(Enumerable.Repeat((byte)r.Next(4), r.Next(1, 600)));
                return [.. b];
            }
            case "random": { var b = new byte[70_000]; r.NextBytes(b); return b; }
            case "multi-block": { var b = new byte[600_000]; for (int i = 0; i < b.Length; i++) b[i] = (byte)(i / 1000 % 7 == 0 ? 0 : r.Next(3)); return b; }
            default: { var b = new byte[80_000]; for (int i = 0; i < b.Length; i++) b[i] = (byte)(i % 256 / 2 + r.Next(5)); return b; }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Round_trips_through_the_system_inflater(string kind)
    {
        var data = Make(kind);
        var z = RleDeflate.Compress(data);
        Assert.Equal(data, Inflate(z));
        if (kind is "constant" or "runs") Assert.True(z.Length < data.Length / 20, $"{kind}: {z.Length} bytes for {data.Length}");
    }

    [Fact]
    public void Code_lengths_are_limited_and_form_a_complete_prefix_code()
    {
        // Fibonacci frequencies make the deepest unrestricted Huffman trees.
        var freq = new int[40];
        int a = 1, b = 1;
        for (int i = 0; i < freq.Length; i++) { freq[i] = a; (a, b) = (b, Math.Min(a + b, 1 << 28)); }
        var lengths = RleDeflate.HuffmanLengths(freq, 15);
        Assert.True(lengths.Max() <= 15);
        Assert.Equal(1.0, lengths.Where(l => l > 0).Sum(l => Math.Pow(2, -l)), 12);
        var single = RleDeflate.HuffmanLengths([0, 0, 9, 0], 7);
        Assert.Equal(2, single.Count(l => l > 0)); // one symbol still gets a complete two-code tree
    }

    [Fact]
    public void Adler32_matches_the_rfc_example()
    {
        Assert.Equal(0x11E60398u, RleDeflate.Adler32("Wikipedia"u8));
    }
}
