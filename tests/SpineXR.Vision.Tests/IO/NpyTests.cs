using SpineXR.Vision.IO;

namespace SpineXR.Vision.Tests.IO;

public class NpyTests
{
    [Fact]
    public void ReadsNumpysOwnFileAndRoundTrips()
    {
        // output.npy was written by numpy.save (tools/densenet_golden.py).
        var a = Npy.Read(Fixtures.Path("Models", "output.npy"));
        Assert.Equal([2L, 3L], a.Shape);
        string path = Path.Combine(Fixtures.TempDir("npy"), "x.npy");
        Npy.Write(path, a.Data, a.Shape);
        var b = Npy.Read(path);
        Assert.Equal(a.Shape, b.Shape);
        Assert.Equal(a.Data, b.Data);
        Assert.Equal(0, (new FileInfo(path).Length - a.Data.Length * 4) % 64); // numpy's 64-byte data alignment
    }

    [Fact]
    public void RejectsTruncatedAndFortranArrays()
    {
        string dir = Fixtures.TempDir("npy");
        string path = Path.Combine(dir, "t.npy");
        Npy.Write(path, new float[12], [3, 4]);
        byte[] raw = File.ReadAllBytes(path);
        File.WriteAllBytes(path, raw[..^4]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Npy.Read(path)).Message);
        string text = System.Text.Encoding.Latin1.GetString(raw).Replace("'fortran_order': False", "'fortran_order': True ");
        File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(text));
        Assert.Contains("Fortran", Assert.Throws<InvalidDataException>(() => Npy.Read(path)).Message);
    }
}
