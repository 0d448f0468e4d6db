using System.Buffers.Binary;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Dicom.Tests.Imaging;

public class PixelDecoderTests
{
    private static DicomFile Native(int rows, int cols, int bitsAllocated, int bitsStored, int pixelRep, byte[] pixels,
        int frames = 1, string photometric = "MONOCHROME2", int samples = 1, bool little = true, int planar = 0)
    {
        var r = new RawDicom(little: little).Text(0x0008, 0x0060, "CS", "OT");
        r.ImagePixel(rows, cols, bitsAllocated, bitsStored, pixelRep, photometric, samples);
        if (samples == 3) r.US(0x0028, 0x0006, planar);
        if (frames > 1) r.Text(0x0028, 0x0008, "IS", frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
        r.Element(0x7FE0, 0x0010, bitsAllocated <= 8 ? "OB" : "OW", pixels);
        return DicomFile.Read(r.ToArray());
    }

    [Fact]
    public void Sixteen_bit_values_are_masked_to_bits_stored()
    {
        var px = new byte[8];
        ushort[] raw = [0x0FFF, 0xF123, 0x8000, 0x0001];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt16LittleEndian(px.AsSpan(i * 2), raw[i]);
        Assert.Equal([0x0FFF, 0x0123, 0x0000, 0x0001], PixelDecoder.DecodeGray(Native(2, 2, 16, 12, 0, px)).Values);
        // Signed 12-bit: bit 11 is the sign, bits above it are ignored.
        Assert.Equal([-1, 0x0123, 0, 1], PixelDecoder.DecodeGray(Native(2, 2, 16, 12, 1, px)).Values);
        Assert.Equal([0x0FFF, unchecked((short)0xF123), short.MinValue, 1], PixelDecoder.DecodeGray(Native(2, 2, 16, 16, 1, px)).Values);
    }

    [Fact]
    public void Eight_and_thirty_two_bit_signed_and_unsigned()
    {
        byte[] px8 = [0x00, 0x7F, 0x80, 0xFF];
        Assert.Equal([0, 127, 128, 255], PixelDecoder.DecodeGray(Native(2, 2, 8, 8, 0, px8)).Values);
        Assert.Equal([0, 127, -128, -1], PixelDecoder.DecodeGray(Native(2, 2, 8, 8, 1, px8)).Values);
        Assert.Equal([0, 63, 0, 63], PixelDecoder.DecodeGray(Native(2, 2, 8, 6, 0, px8)).Values);

        var px32 = new byte[16];
        int[] raw = [-5, 1_000_000, int.MinValue, 0x00FF_FFFF];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(px32.AsSpan(i * 4), raw[i]);
        Assert.Equal(raw, PixelDecoder.DecodeGray(Native(2, 2, 32, 32, 1, px32)).Values);
        Assert.Equal([-5, -48576, 0, -1], PixelDecoder.DecodeGray(Native(2, 2, 32, 20, 1, px32)).Values);
    }

    [Fact]
    public void Big_endian_pixels_are_swapped()
    {
        byte[] px = [0x01, 0x02, 0x0A, 0xBC];
        Assert.Equal([0x0102, 0x0ABC], PixelDecoder.DecodeGray(Native(1, 2, 16, 12, 0, px, little: false)).Values);
    }

    [Fact]
    public void Multi_frame_first_by_default_all_on_request()
    {
        byte[] px = [1, 2, 3, 4, 5, 6];
        var f = Native(1, 2, 8, 8, 0, px, frames: 3);
        Assert.Equal([1, 2], PixelDecoder.DecodeGray(f).Values);
        Assert.Equal([5, 6], PixelDecoder.DecodeGray(f, 2).Values);
        Assert.Equal(3, PixelDecoder.DecodeAllGray(f).Count);
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(f, 3));
    }

    [Fact]
    public void Rgb_becomes_luminance_with_a_warning_interleaved_and_planar()
    {
        byte[] interleaved = [255, 0, 0, 0, 255, 0];
        var a = PixelDecoder.DecodeGray(Native(1, 2, 8, 8, 0, interleaved, photometric: "RGB", samples: 3));
        Assert.Equal([76, 150], a.Values); // round(0.299*255), round(0.587*255)
        Assert.Contains(a.Warnings, w => w.Contains("luminance"));
        byte[] planar = [255, 0, 0, 255, 0, 0];
        Assert.Equal([76, 150], PixelDecoder.DecodeGray(Native(1, 2, 8, 8, 0, planar, photometric: "RGB", samples: 3, planar: 1)).Values);
    }

    [Fact]
    public void Short_pixel_data_and_absurd_sizes_are_dicom_exceptions()
    {
        var e = Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Native(100, 100, 16, 12, 0, new byte[100])));
        Assert.Contains("pixel data holds 100 bytes", e.Message);
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Native(2, 2, 8, 8, 0, new byte[4], frames: 2)));
        var huge = Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Native(65535, 65535, 16, 16, 0, new byte[100], samples: 3, photometric: "RGB")));
        Assert.Contains("exceeds the limit", huge.Message);
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Native(4, 4, 1, 1, 0, []))); // 16 one-bit pixels need 2 bytes
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Native(2, 2, 16, 17, 0, new byte[8])));
    }

    // ---------------------------------------------------------------- encapsulated

    /// <summary>An 8-bit RLE frame: one segment of literal runs (PS3.5 G.3), usable with the registered RLE codec.</summary>
    private static byte[] Rle(params byte[] values)
    {
        var seg = new List<byte>();
        for (int i = 0; i < values.Length; i += 128)
        {
            int n = Math.Min(128, values.Length - i);
            seg.Add((byte)(n - 1));
            seg.AddRange(values.Skip(i).Take(n));
        }
        var frame = new byte[64 + seg.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), 64);
        seg.CopyTo(frame, 64);
        return frame;
    }

    private static DicomFile Encapsulated(int frames, byte[] bot, IEnumerable<byte[]> fragments, byte[]? eot = null)
    {
        var r = RawDicom.WithMeta(TransferSyntax.RleLosslessUid).Text(0x0008, 0x0060, "CS", "OT");
        r.ImagePixel(2, 2, 8, 8, 0);
        if (frames > 1) r.Text(0x0028, 0x0008, "IS", frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (eot != null)
        {
            r.Element(0x7FE0, 0x0001, "OV", eot);
            var lengths = new byte[eot.Length];
            r.Element(0x7FE0, 0x0002, "OV", lengths);
        }
        r.Header(0x7FE0, 0x0010, "OB", 0xFFFFFFFF).ItemStart((uint)bot.Length).Bytes(bot);
        foreach (var f in fragments) r.ItemStart((uint)f.Length).Bytes(f);
        r.SequenceEnd();
        return DicomFile.Read(r.ToArray());
    }

    private static byte[] Offsets(params int[] offsets)
    {
        var b = new byte[offsets.Length * 4];
        for (int i = 0; i < offsets.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i * 4), offsets[i]);
        return b;
    }

    [Fact]
    public void Encapsulated_single_frame_with_empty_offset_table_joins_all_fragments()
    {
        var frame = Rle(10, 20, 30, 40);
        // Split the code stream over three fragments (even lengths).
        var f = Encapsulated(1, [], [frame[..30], frame[30..64], frame[64..]]);
        Assert.Equal([10, 20, 30, 40], PixelDecoder.DecodeGray(f).Values);
    }

    [Fact]
    public void Encapsulated_frames_with_a_basic_offset_table_and_several_fragments_per_frame()
    {
        var a = Rle(1, 2, 3, 4);
        var b = Rle(5, 6, 7, 8);
        // frame 0 = fragments 1+2, frame 1 = fragment 3; offsets count item headers (8 bytes each).
        var fragments = new[] { a[..32], a[32..], b };
        var f = Encapsulated(2, Offsets(0, 8 + 32 + 8 + (a.Length - 32)), fragments);
        var all = PixelDecoder.DecodeAllGray(f);
        Assert.Equal([1, 2, 3, 4], all[0].Values);
        Assert.Equal([5, 6, 7, 8], all[1].Values);
    }

    [Fact]
    public void Encapsulated_frames_with_an_extended_offset_table()
    {
        var a = Rle(1, 2, 3, 4);
        var b = Rle(9, 9, 9, 9);
        var eot = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(eot.AsSpan(8), (ulong)(8 + a.Length));
        var f = Encapsulated(2, [], [a, b], eot);
        Assert.Equal([9, 9, 9, 9], PixelDecoder.DecodeGray(f, 1).Values);
    }

    [Fact]
    public void Encapsulated_one_fragment_per_frame_without_offset_table()
    {
        var f = Encapsulated(2, [], [Rle(1, 1, 1, 1), Rle(2, 2, 2, 2)]);
        Assert.Equal([2, 2, 2, 2], PixelDecoder.DecodeGray(f, 1).Values);
    }

    [Fact]
    public void Bad_offset_tables_and_fragment_counts_are_dicom_exceptions()
    {
        var a = Rle(1, 2, 3, 4);
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Encapsulated(2, Offsets(0, 12345), [a, a])));
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Encapsulated(3, [], [a, a])));
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Encapsulated(2, [], [a[..32], a[32..], a])));
        Assert.Throws<DicomException>(() => PixelDecoder.DecodeGray(Encapsulated(1, [], [a[..40]]))); // corrupt stream
    }

    [Fact]
    public void Bit_packed_frames_unpack_least_significant_bit_first_and_frames_need_not_start_on_a_byte()
    {
        // 3x3 pixels, 2 frames = 18 bits in 3 bytes; frame 1 starts at bit 9 (byte 1, bit 1).
        // frame 0: 1 0 1 / 1 0 0 / 0 0 1     frame 1: 0 1 1 / 0 0 0 / 1 1 0
        int[] f0 = [1, 0, 1, 1, 0, 0, 0, 0, 1], f1 = [0, 1, 1, 0, 0, 0, 1, 1, 0];
        var bits = f0.Concat(f1).ToArray();
        var packed = new byte[4]; // padded to even length
        for (int k = 0; k < bits.Length; k++) packed[k / 8] |= (byte)(bits[k] << (k % 8));
        var file = Native(3, 3, 1, 1, 0, packed, frames: 2);
        var pixels = DicomPixelData.Create(file);
        Assert.True(pixels.IsBitPacked);
        Assert.Equal((8, 1), (pixels.Format.BitsAllocated, pixels.Format.BitsStored));
        var frames = PixelDecoder.DecodeAllGray(file);
        Assert.Equal(f0, frames[0].Values);
        Assert.Equal(f1, frames[1].Values);
    }

    [Fact]
    public void Bit_packed_data_too_short_for_its_frames_is_refused_with_the_sizes()
    {
        var e = Assert.Throws<DicomException>(() => DicomPixelData.Create(Native(8, 8, 1, 1, 0, new byte[6], frames: 2)));
        Assert.Contains("need 16", e.Message);
        e = Assert.Throws<DicomException>(() => DicomPixelData.Create(Native(2, 2, 1, 1, 0, new byte[2], samples: 3)));
        Assert.Contains("Bits Allocated 1", e.Message);
    }

    [Fact]
    public void Bit_packed_segmentations_render_as_black_and_white()
    {
        var file = DicomFile.Open(Fixtures.PathOf("pydicom/liver_1frame.dcm"));
        byte[] gray = SpineXR.Dicom.Rendering.GrayscaleRenderer.ToGray8(PixelDecoder.DecodeGray(file), file.Dataset);
        var stored = PixelDecoder.DecodeGray(file).Values;
        Assert.Equal(stored.Select(v => v == 1 ? (byte)255 : (byte)0), gray);
    }
}
