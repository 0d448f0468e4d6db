using System.Diagnostics;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Dicom.Tests;

/// <summary>
/// A fixed number (3,000) of seeded random mutations (byte flips, length fields set to large values, truncations, spliced chunks)
/// of valid files, read and rendered end to end: only <see cref="DicomException"/> may escape, and no input may take
/// long (a hang shows as one iteration over its time limit).
/// </summary>
public class MutationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // A fixed count, not a time box: a slow machine runs the same inputs, and a failure names its iteration and seed.
    private const int Count = 3000;
    private const int Seed = 20260127;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(5);

    private static List<byte[]> Seeds()
    {
        // Small files; not the 512x512 1-bit liver segmentations (8 pixels a byte: 262,144 pixels in 37 KB, several
        // times the work of any other seed per iteration), whose reading a small bit-packed seed below covers.
        var seeds = Fixtures.AllDicomFiles().Where(p => new FileInfo(p).Length < 64 * 1024 && !Path.GetFileName(p).StartsWith("liver", StringComparison.Ordinal))
            .Select(File.ReadAllBytes).ToList();
        var bits = new DicomDataset()
            .SetString(DicomTags.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.66.4")
            .SetString(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.4")
            .SetInts(DicomTags.SamplesPerPixel, DicomVR.US, 1).SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2")
            .SetString(DicomTags.NumberOfFrames, DicomVR.IS, "3")
            .SetInts(DicomTags.Rows, DicomVR.US, 33).SetInts(DicomTags.Columns, DicomVR.US, 17)
            .SetInts(DicomTags.BitsAllocated, DicomVR.US, 1).SetInts(DicomTags.BitsStored, DicomVR.US, 1).SetInts(DicomTags.HighBit, DicomVR.US, 0)
            .SetInts(DicomTags.PixelRepresentation, DicomVR.US, 0)
            .SetBytes(DicomTags.PixelData, DicomVR.OB, Enumerable.Range(0, (3 * 33 * 17 + 7) / 8 + 1).Select(i => (byte)(i * 37)).ToArray());
        seeds.Add(DicomWriter.ToBytes(bits));
        // Add a sequence-rich and a multi-frame encapsulated file built here.
        var item = new DicomDataset().SetString(new DicomTag(0x0008, 0x0100), DicomVR.SH, "A");
        var nested = new DicomDataset().SetSequence(new DicomTag(0x0040, 0xA730), item, item);
        var ds = new DicomDataset()
            .SetString(DicomTags.SOPClassUID, DicomVR.UI, DicomUid.SecondaryCaptureImageStorage)
            .SetString(DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3")
            .SetSequence(new DicomTag(0x0008, 0x1140), nested, nested);
        seeds.Add(DicomWriter.ToBytes(ds));
        return seeds;
    }

    private static void Mutate(Random rng, byte[] src, out byte[] dst)
    {
        dst = (byte[])src.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip a few bytes, mostly in the header
                for (int k = rng.Next(1, 8); k > 0; k--)
                {
                    int at = rng.Next(10) < 8 ? rng.Next(Math.Min(dst.Length, 1500)) : rng.Next(dst.Length);
                    dst[at] ^= (byte)rng.Next(1, 256);
                }
                break;
            case 1: // a 16/32-bit length-like field set to something large
            {
                int at = rng.Next(Math.Max(1, dst.Length - 4));
                uint v = rng.Next(4) switch { 0 => 0xFFFFFFFF, 1 => 0xFFFF, 2 => (uint)rng.Next(), _ => (uint)(dst.Length + rng.Next(100)) };
                for (int b = 0; b < 4 && at + b < dst.Length; b++) dst[at + b] = (byte)(v >> (8 * b));
                break;
            }
            case 2: // truncate anywhere
                dst = dst[..rng.Next(dst.Length)];
                break;
            case 3: // splice a chunk from elsewhere in the file
            {
                int len = rng.Next(1, 64), from = rng.Next(dst.Length), to = rng.Next(dst.Length);
                len = Math.Min(len, Math.Min(dst.Length - from, dst.Length - to));
                Array.Copy(src, from, dst, to, len);
                break;
            }
            default: // delete a chunk
            {
                int at = rng.Next(dst.Length), len = Math.Min(rng.Next(1, 40), dst.Length - at);
                dst = [.. dst[..at], .. dst[(at + len)..]];
                break;
            }
        }
    }

    private static void ReadAndRender(byte[] bytes)
    {
        var file = DicomFile.Read(bytes);
        if (!file.Dataset.Contains(DicomTags.PixelData)) return;
        foreach (var frame in PixelDecoder.DecodeAllGray(file).Take(2))
        {
            GrayscaleRenderer.ToGray8(frame, file.Dataset);
            GrayscaleRenderer.ToGray16(frame, file.Dataset, new RenderOptions { ApplyModalityLut = true, ExcludePixelPadding = true });
        }
        GrayscaleRenderer.ToGray8(DicomPixelData.Create(file), file.Dataset, 0, null, out _);
        DicomWriter.ToBytes(file.Dataset.GetString(DicomTags.SOPClassUID) != null && file.Dataset.GetString(DicomTags.SOPInstanceUID) != null
            ? file.Dataset : new DicomDataset().SetString(DicomTags.SOPClassUID, DicomVR.UI, "1.2").SetString(DicomTags.SOPInstanceUID, DicomVR.UI, "1.3"),
            file.TransferSyntax.Encapsulated ? file.TransferSyntax.Uid : TransferSyntax.ExplicitVRLittleEndianUid);
    }

    [Fact]
    public async Task Random_mutations_only_ever_raise_dicom_exceptions_and_never_hang()
    {
        var seeds = Seeds();
        var rng = new Random(Seed);
        var clock = Stopwatch.StartNew();
        int iterations = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        while (iterations < Count)
        {
            int s = rng.Next(seeds.Count);
            Mutate(rng, seeds[s], out var bytes);
            var t0 = clock.Elapsed;
            var task = Task.Run(() =>
            {
                try { ReadAndRender(bytes); return (Exception?)null; }
                catch (DicomException) { return new DicomException("rejected"); }
                catch (Exception e) when (e is ArgumentException { ParamName: "pixels" or "transferSyntaxUid" }) { return null; } // writer refusing odd datasets
                catch (Exception e) { return e; }
            });
            Exception? err;
            try { err = await task.WaitAsync(PerInput); }
            catch (TimeoutException) { Assert.Fail($"iteration {iterations} (seed {s}) ran longer than {PerInput.TotalSeconds} s"); throw; }
            if (err is DicomException) rejected++;
            else if (err != null) Assert.Fail($"iteration {iterations} (seed {s}): {err.GetType().Name} escaped: {err}");
            var took = clock.Elapsed - t0;
            if (took > slowest) slowest = took;
            iterations++;
        }
        output.WriteLine($"{iterations} mutated inputs (seed {Seed}) from {seeds.Count} files in {clock.Elapsed.TotalSeconds:F1} s: {rejected} rejected with a DicomException, slowest {slowest.TotalMilliseconds:F0} ms");
        Assert.True(rejected > iterations / 10, "mutations should mostly break files");
    }
}
