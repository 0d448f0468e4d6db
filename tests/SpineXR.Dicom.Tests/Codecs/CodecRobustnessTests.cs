using System.Diagnostics;
using System.Runtime.InteropServices;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>Corrupt, truncated or mismatched streams give a <see cref="DicomException"/> with a reason, quickly, and nothing else.</summary>
public class CodecRobustnessTests
{
    public static TheoryData<string> MutatedCases => new()
    {
        "rle_m16", "rle_rgb8",
        "jpll_m12_sv7", "jpll_own_rgb8_sv2_ri45", "jpll_own_m12_sv1_ri45",
        "jpbase_rgb8_422", "jpext_m12", "pydicom_SC_rgb_small_odd_jpeg",
        "jls_m12", "jls_rgb8_none", "jlsnear_m12",
        "j2k_m12", "j2klossy_rgb8", "jp2_m12", "pydicom_MR_small_jp2klossless",
        // No HTJ2K stream here: Debian 12's OpenJPEG 2.5.0 is built with assert() live in its HT block decoder
        // (ht_dec.c), and a corrupt HT code block aborts the process. HT streams are decoded in a helper process
        // (DecodeHost); their mutation test runs in SpineXR.Cli.Tests, where an executable to host them exists.
    };

    /// <summary>
    /// 400 seeded mutations per stream (byte flips, truncations, inserted and deleted runs, marker-looking bytes):
    /// each decode either yields a whole frame or throws DicomException, and none takes long.
    /// </summary>
    [Theory]
    [MemberData(nameof(MutatedCases))]
    public void Mutated_streams_only_throw_DicomException(string name)
    {
        var c = CodecFixture.All[name];
        byte[] original = c.ReadStream();
        var codec = CodecRegistry.Find(c.TransferSyntax)!;
        var rng = new Random(StableSeed(name));
        int failures = 0;
        var slowest = TimeSpan.Zero;
        double slowestCpu = 0;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < Iterations; i++)
        {
            byte[] mutated = Mutate(original, rng);
            var sw = Stopwatch.StartNew();
            double cpu = ThreadCpuSeconds();
            try
            {
                var frame = codec.Decode(mutated, c.Format, c.TransferSyntax);
                Assert.Equal(c.Format.FrameBytes, frame.Data.Length);
            }
            catch (DicomException e)
            {
                failures++;
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
            catch (Exception e)
            {
                Assert.Fail($"{name}, mutation {i}: {e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
            }
            slowestCpu = Math.Max(slowestCpu, ThreadCpuSeconds() - cpu);
            if (sw.Elapsed > slowest) { slowest = sw.Elapsed; if (Environment.GetEnvironmentVariable("SPINEXR_FUZZ_DUMP") is { } dump) File.WriteAllBytes(dump, mutated); }
        }
        Assert.True(failures > 0, "no mutation was detected at all");
        // CPU time of this thread (the codecs run single-threaded on it), so a busy shared machine does not trip the
        // bound; wall time only guards against a hang, generously.
        Assert.True(slowestCpu < 0.5, $"one decode used {slowestCpu * 1000:F0} ms of CPU on a {c.Columns}x{c.Rows} image");
        Assert.True(slowest < TimeSpan.FromSeconds(20), $"one decode took {slowest.TotalMilliseconds:F0} ms");
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(120), $"{Iterations} decodes took {total.Elapsed.TotalSeconds:F1} s");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>CPU seconds used by the calling thread (Linux CLOCK_THREAD_CPUTIME_ID); falls back to wall time elsewhere.</summary>
    private static double ThreadCpuSeconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(3, out var t) == 0) return t.Seconds + t.Nanoseconds * 1e-9;
        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    /// <summary>A seed from the case name that is the same in every run (string.GetHashCode is randomised per process).</summary>
    private static int StableSeed(string name)
    {
        int h = 0x5EED;
        foreach (char ch in name) h = h * 31 + ch;
        return h;
    }

    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("SPINEXR_FUZZ_ITERATIONS"), out int n) ? n : 400;

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var bytes = new List<byte>(original);
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = rng.Next(bytes.Count);
            switch (rng.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: bytes[at] = (byte)rng.Next(256); break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;                        // truncation
                case 3: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + rng.Next(16))); break;
                case 4: bytes.InsertRange(at, Enumerable.Range(0, 1 + rng.Next(8)).Select(_ => (byte)rng.Next(256))); break;
                default: bytes[at] = 0xFF; if (at + 1 < bytes.Count) bytes[at + 1] = (byte)rng.Next(0xC0, 0x100); break;
            }
        }
        return bytes.ToArray();
    }

    public static TheoryData<string> OnePerCodec => new() { "rle_m12", "jpll_m12_sv1", "jpext_m12", "jls_m12", "j2k_m12" };

    [Theory]
    [MemberData(nameof(OnePerCodec))]
    public void A_stream_that_disagrees_with_the_dataset_is_refused_with_the_reason(string name)
    {
        var c = CodecFixture.All[name];
        var codec = CodecRegistry.Find(c.TransferSyntax)!;
        byte[] stream = c.ReadStream();

        var e = Assert.Throws<DicomException>(() => codec.Decode(stream, c.Format with { Rows = c.Rows + 1 }, c.TransferSyntax));
        Assert.StartsWith(codec.Name.Split(' ')[0], e.Message);
        Assert.Throws<DicomException>(() => codec.Decode(stream, c.Format with { SamplesPerPixel = 3, Photometric = "RGB" }, c.TransferSyntax));
        Assert.Throws<DicomException>(() => codec.Decode(stream, c.Format with { BitsAllocated = 8, BitsStored = 8 }, c.TransferSyntax));
        Assert.Throws<DicomException>(() => codec.Decode([], c.Format, c.TransferSyntax));
        Assert.Throws<DicomException>(() => codec.Decode(stream.AsSpan(0, 3), c.Format, c.TransferSyntax));
    }

    [Fact]
    public void An_absurd_image_size_is_refused_before_anything_is_allocated()
    {
        var c = CodecFixture.All["j2k_m12"];
        var huge = c.Format with { Rows = 65535, Columns = 65535, SamplesPerPixel = 3, BitsAllocated = 32, BitsStored = 32 };
        foreach (var codec in CodecRegistry.All)
        {
            var e = Assert.Throws<DicomException>(() => codec.Decode(c.ReadStream(), huge, codec.TransferSyntaxes[0]));
            Assert.Contains("too large", e.Message);
        }
    }

    [Fact]
    public void A_missing_native_library_names_the_debian_package()
    {
        var lib = new NativeCodecLibrary("JPEG 2000", "libopenjp2-7", "libopenjp2-not-here.so.7", "libopenjp2-not-here.so");
        var e = Assert.Throws<DicomException>(() => lib.Handle);
        Assert.Equal("JPEG 2000 needs libopenjp2-not-here.so.7: apt-get install libopenjp2-7", e.Message);
    }

    [Fact]
    public void Native_codec_libraries_load()
    {
        Assert.StartsWith("2.", NativeCodecs.OpenJpegVersion());
        Assert.StartsWith("2.", NativeCodecs.CharLsVersion());
    }
}
