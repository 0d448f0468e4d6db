using System.Diagnostics;
using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;

namespace SpineXR.Cli.Tests;

/// <summary>
/// HTJ2K decoding in a helper process (`spinexr --spinexr-decode-host`): OpenJPEG 2.5.0 calls abort() on the corrupt
/// fixture (tools/make_htj2k_abort_fixture.py), and the application sees one DicomException and carries on.
/// These tests change DecodeHost's process-wide settings (a stuck helper, a 1 s deadline): they run with no other test
/// beside them, or a concurrent test's JPEG 2000 decode meets their stuck helper (seen in CI).
/// </summary>
[Collection(nameof(ProcessWideDecodeSettings))]
public sealed class DecodeHostProcessTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly PixelFormat Format = new(37, 45, 1, 16, 12, 0, "MONOCHROME2");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-decodehost-" + Guid.NewGuid().ToString("N")[..8]);

    public DecodeHostProcessTests()
    {
        Directory.CreateDirectory(_dir);
        var psi = new ProcessStartInfo("dotnet");
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SpineXR.Cli.dll"));
        psi.ArgumentList.Add(DecodeHost.Argument);
        DecodeHost.Command = psi;
    }

    public void Dispose()
    {
        DecodeHost.Command = null;
        DecodeHost.IsolateAllExternalCodecs = false;
        DecodeHost.TimeoutSeconds = 300;
        Directory.Delete(_dir, recursive: true);
    }

    private static byte[] Stream(string name) => File.ReadAllBytes(Path.Combine(Fixtures, name));

    // The good fixture decoded in this process, for comparison.
    private static byte[] InProcess(byte[] stream)
    {
        var host = DecodeHost.Command;
        DecodeHost.Command = null;
        try
        {
            return CodecRegistry.Find(Jpeg2000Codec.HtLossless)!.Decode(stream, Format, Jpeg2000Codec.HtLossless).Data;
        }
        finally
        {
            DecodeHost.Command = host;
        }
    }

    [Fact]
    public void An_abort_in_the_decoder_becomes_one_error_and_the_next_frame_decodes()
    {
        var codec = CodecRegistry.Find(Jpeg2000Codec.HtLossless)!;
        byte[] expected = InProcess(Stream("htj2k_m12.bin"));

        Assert.Equal(expected, codec.Decode(Stream("htj2k_m12.bin"), Format, Jpeg2000Codec.HtLossless).Data);
        var e = Assert.Throws<DicomException>(() => codec.Decode(Stream("htj2k_m12_abort.bin"), Format, Jpeg2000Codec.HtLossless));
        Assert.Contains("aborted on a corrupt code stream", e.Message);
        Assert.Contains("ht_dec.c", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // a mislabelled stream (HT code blocks under the classic syntax) is recognised by its CAP marker
        Assert.Throws<DicomException>(() => codec.Decode(Stream("htj2k_m12_abort.bin"), Format, Jpeg2000Codec.Lossless));
        Assert.Equal(expected, codec.Decode(Stream("htj2k_m12.bin"), Format, Jpeg2000Codec.HtLossless).Data);
    }

    [Fact]
    public void Parallel_decodes_share_the_hosts()
    {
        var codec = CodecRegistry.Find(Jpeg2000Codec.HtLossless)!;
        byte[] good = Stream("htj2k_m12.bin"), bad = Stream("htj2k_m12_abort.bin");
        byte[] expected = InProcess(good);
        var outcomes = new string[16];
        Parallel.For(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            try
            {
                outcomes[i] = codec.Decode(i % 4 == 3 ? bad : good, Format, Jpeg2000Codec.HtLossless).Data.SequenceEqual(expected) ? "same" : "different";
            }
            catch (DicomException)
            {
                outcomes[i] = "error";
            }
        });
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i % 4 == 3 ? "error" : "same"), outcomes);
    }

    [Fact]
    public void Mutated_HT_streams_only_throw_DicomException()
    {
        // The mutation test the in-process codecs get (CodecRobustnessTests), for the streams that can abort OpenJPEG.
        var codec = CodecRegistry.Find(Jpeg2000Codec.HtLossless)!;
        byte[] original = Stream("htj2k_m12.bin");
        int sod = original.AsSpan().IndexOf([(byte)0xFF, (byte)0x93]);
        var rng = new Random(15);
        int decoded = 0, failed = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < 150; i++)
        {
            var sw = Stopwatch.StartNew();
            byte[] m = (byte[])original.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) m[rng.Next(sod + 2, m.Length - 2)] = rng.Next(3) == 0 ? (byte)0xFF : (byte)rng.Next(256);
            try
            {
                Assert.Equal(Format.FrameBytes, codec.Decode(m, Format, Jpeg2000Codec.HtLossless).Data.Length);
                decoded++;
            }
            catch (DicomException)
            {
                failed++;
            }
            if (sw.Elapsed > slowest) slowest = sw.Elapsed;
        }
        Assert.Equal(150, decoded + failed);
        // Corrupt code blocks must be caught somewhere (OpenJPEG's checks or an abort in the host), and none may hang.
        Assert.True(failed > 0, $"all 150 mutated streams decoded ({decoded}); the test no longer reaches the decoder's checks");
        Assert.True(slowest < TimeSpan.FromSeconds(10), $"one decode took {slowest.TotalSeconds:0.0} s");
    }

    private sealed class FixedStream(byte[] stream) : IPixelEncoder
    {
        public string TransferSyntax => Jpeg2000Codec.HtLossless;
        public byte[] Encode(ReadOnlySpan<byte> frame, PixelFormat format) => stream;
    }

    [Fact]
    public void Convert_reports_the_aborting_file_and_converts_the_rest()
    {
        string input = Path.Combine(_dir, "in");
        Directory.CreateDirectory(input);
        var header = new GrayscaleImageHeader { Rows = 37, Columns = 45, UidSeed = "ht" };
        var pixels = new ushort[37 * 45];
        DicomImageWriter.Save(Path.Combine(input, "good.dcm"), header, pixels, new FixedStream(Stream("htj2k_m12.bin")));
        DicomImageWriter.Save(Path.Combine(input, "bad.dcm"), header with { UidSeed = "bad" }, pixels, new FixedStream(Stream("htj2k_m12_abort.bin")));
        string output = Path.Combine(_dir, "out");

        Assert.Equal(ExitCodes.SomeFailed, Program.Run(["dicom", "convert", input, "--out", output, "--workers", "2"]));

        Assert.Equal(["convert_log.csv", "good.png"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var log = File.ReadAllLines(Path.Combine(output, "convert_log.csv"));
        Assert.Contains(log, l => l.StartsWith(Path.Combine(input, "bad.dcm") + ",failed,", StringComparison.Ordinal) && l.Contains("aborted", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("j2k_m12.bin", Jpeg2000Codec.Lossless)]
    [InlineData("jls_m12.bin", JpegLsCodec.Lossless)]
    public void With_every_external_codec_isolated_classic_jpeg2000_and_jpeg_ls_decode_in_the_host_alike(string stream, string syntax)
    {
        var codec = CodecRegistry.Find(syntax)!;
        var command = DecodeHost.Command;
        DecodeHost.Command = null;
        byte[] expected = codec.Decode(Stream(stream), Format, syntax).Data;
        DecodeHost.Command = command;
        DecodeHost.IsolateAllExternalCodecs = true;
        Assert.Equal(expected, codec.Decode(Stream(stream), Format, syntax).Data);
        if (codec is Jpeg2000Codec j2k)
        {
            DecodeHost.IsolateAllExternalCodecs = false;
            var (inProcess, _) = j2k.DecodeReduced(Stream(stream), Format, syntax, 1);
            DecodeHost.IsolateAllExternalCodecs = true;
            var (hosted, format) = j2k.DecodeReduced(Stream(stream), Format, syntax, 1);
            Assert.Equal(inProcess.Data, hosted.Data);
            Assert.Equal((19, 23), (format.Rows, format.Columns));
        }
    }

    [Theory]
    [InlineData("j2k_m12.bin", Jpeg2000Codec.Lossless)]
    [InlineData("jls_m12.bin", JpegLsCodec.Lossless)]
    public void A_decode_that_never_returns_is_stopped_at_the_deadline(string stream, string syntax)
    {
        // A host that reads nothing and never answers stands in for a decoder caught in an endless loop
        // (OpenJPEG 2.5.0, CVE-2023-39327): the decode must end at the deadline with one error.
        DecodeHost.Command = new ProcessStartInfo("sleep") { ArgumentList = { "60" } };
        DecodeHost.TimeoutSeconds = 1;
        var codec = CodecRegistry.Find(syntax)!;
        DecodeHost.IsolateAllExternalCodecs = true;
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<DicomException>(() => codec.Decode(Stream(stream), Format, syntax));
        Assert.Contains("took more than 1 s; stopped", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"stopped after {sw.Elapsed.TotalSeconds:0.0} s");
        // Isolation off: classic JPEG 2000 and JPEG-LS decode in process and never meet the stuck host.
        DecodeHost.IsolateAllExternalCodecs = false;
        Assert.Equal(Format.FrameBytes, codec.Decode(Stream(stream), Format, syntax).Data.Length);
    }
}

/// <summary>Tests that change DecodeHost's process-wide settings run with no other test beside them.</summary>
[CollectionDefinition(nameof(ProcessWideDecodeSettings), DisableParallelization = true)]
public sealed class ProcessWideDecodeSettings;
