using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Codecs;

/// <summary>
/// Lossless JPEG 2000 encoding (transfer syntax 1.2.840.10008.1.2.4.90) through OpenJPEG 2.5: reversible 5/3
/// wavelet, one quality layer, a bare J2K codestream whose precision is Bits Stored (12 for VinDr-like images),
/// signed when Pixel Representation is 1. Colour images are coded without a component transform.
/// </summary>
public sealed unsafe class Jpeg2000Encoder : IPixelEncoder
{
    private const string Who = "JPEG 2000 encoder";

    /// <summary>The lossless JPEG 2000 transfer syntax, 1.2.840.10008.1.2.4.90.</summary>
    public string TransferSyntax => Jpeg2000Codec.Lossless;

    /// <inheritdoc cref="EncodeLossless"/>
    public byte[] Encode(ReadOnlySpan<byte> frame, PixelFormat format) => EncodeLossless(frame, format);

    /// <summary>
    /// Encodes one frame given as native little-endian Pixel Data (interleaved when colour). Sample bits above
    /// Bits Stored are ignored (masked, sign-extended when signed), as a DICOM reader would.
    /// </summary>
    public static byte[] EncodeLossless(ReadOnlySpan<byte> nativeLE, PixelFormat format)
    {
        FrameChecks.Validate(format, Who);
        if (format.SamplesPerPixel is not (1 or 3))
            throw new DicomException($"{Who}: {format.SamplesPerPixel} samples per pixel is not supported");
        if (format.BitsStored > 24)
            throw new DicomException($"{Who}: Bits Stored {format.BitsStored} is beyond what OpenJPEG codes losslessly");
        if (nativeLE.Length < format.FrameBytes)
            throw new DicomException($"{Who}: {nativeLE.Length} bytes given, a frame needs {format.FrameBytes}");
        if (format.PlanarConfiguration != 0 && format.SamplesPerPixel > 1)
            throw new DicomException($"{Who}: planar colour input is not supported, interleave it first");

        var f = OpenJpeg.Functions;
        int n = format.SamplesPerPixel;
        var log = new OpenJpeg.MessageLog();
        var sink = new OpenJpeg.MemorySink();
        GCHandle logHandle = GCHandle.Alloc(log), sinkHandle = GCHandle.Alloc(sink);
        byte* parameters = (byte*)NativeMemory.AllocZeroed(OpenJpeg.EncoderParametersSize + 64);
        void* codec = null, stream = null;
        OpenJpeg.Image* image = null;
        try
        {
            codec = f.CreateCompress(OpenJpeg.CodecJ2K);
            if (codec == null) throw new DicomException($"{Who}: OpenJPEG could not create an encoder");
            OpenJpeg.AttachLog(f, codec, logHandle);
            f.SetDefaultEncoderParameters(parameters);
            OpenJpeg.WriteInt32(parameters, OpenJpeg.EncTcpNumLayers, 1);
            *(float*)(parameters + OpenJpeg.EncTcpRates) = 0f; // rate 0: keep everything (lossless)
            OpenJpeg.WriteInt32(parameters, OpenJpeg.EncCpDistoAlloc, 1);
            OpenJpeg.WriteInt32(parameters, OpenJpeg.EncIrreversible, 0);
            OpenJpeg.WriteInt32(parameters, OpenJpeg.EncNumResolution, Resolutions(format.Columns, format.Rows));
            parameters[OpenJpeg.EncTcpMct] = 0;

            var components = stackalloc OpenJpeg.ComponentParameters[n];
            for (int i = 0; i < n; i++)
            {
                components[i] = new OpenJpeg.ComponentParameters
                {
                    Dx = 1, Dy = 1, W = (uint)format.Columns, H = (uint)format.Rows,
                    Prec = (uint)format.BitsStored, Bpp = (uint)format.BitsStored, Sgnd = (uint)(format.PixelRepresentation == 1 ? 1 : 0),
                };
            }
            image = f.ImageCreate((uint)n, components, n == 1 ? OpenJpeg.ColorSpaceGray : OpenJpeg.ColorSpaceSrgb);
            if (image == null) throw new DicomException($"{Who}: OpenJPEG could not allocate the image");
            image->X0 = 0; image->Y0 = 0; image->X1 = (uint)format.Columns; image->Y1 = (uint)format.Rows;
            int pixels = format.Rows * format.Columns;
            for (int i = 0; i < n; i++)
                LoadComponent(nativeLE, format, i, new Span<int>(image->Comps[i].Data, pixels));

            if (f.SetupEncoder(codec, parameters, image) == 0) throw Fail("setup failed", log);
            stream = f.StreamCreate(1 << 20, 0);
            if (stream == null) throw new DicomException($"{Who}: OpenJPEG could not create a stream");
            f.StreamSetWrite(stream, &OpenJpeg.WriteToSink);
            f.StreamSetSkip(stream, &OpenJpeg.SkipInSink);
            f.StreamSetSeek(stream, &OpenJpeg.SeekInSink);
            f.StreamSetUserData(stream, (void*)GCHandle.ToIntPtr(sinkHandle), null);
            if (f.StartCompress(codec, image, stream) == 0) throw Fail("start failed", log);
            if (f.Encode(codec, stream) == 0) throw Fail("encoding failed", log);
            if (f.EndCompress(codec, stream) == 0) throw Fail("end failed", log);
            return sink.Buffer.AsSpan(0, (int)sink.Length).ToArray();
        }
        finally
        {
            if (stream != null) f.StreamDestroy(stream);
            if (image != null) f.ImageDestroy(image);
            if (codec != null) f.DestroyCodec(codec);
            NativeMemory.Free(parameters);
            logHandle.Free();
            sinkHandle.Free();
        }
    }

    /// <summary>OpenJPEG's default 6 resolution levels, fewer for images too small to decompose 5 times.</summary>
    private static int Resolutions(int width, int height)
    {
        int levels = 6;
        while (levels > 1 && (Math.Min(width, height) >> (levels - 1)) == 0) levels--;
        return levels;
    }

    /// <summary>Reads component <paramref name="component"/>'s stored values (masked to Bits Stored, sign-extended) into <paramref name="dst"/>.</summary>
    private static void LoadComponent(ReadOnlySpan<byte> src, PixelFormat format, int component, Span<int> dst)
    {
        int n = format.SamplesPerPixel, bits = format.BitsStored;
        bool signed = format.PixelRepresentation == 1;
        int shift = 32 - bits;
        switch (format.BytesPerSample)
        {
            case 1:
                for (int i = 0, j = component; i < dst.Length; i++, j += n) dst[i] = Stored(src[j], shift, signed);
                break;
            case 2:
                var s16 = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0, j = component; i < dst.Length; i++, j += n) dst[i] = Stored(s16[j], shift, signed);
                break;
            default:
                var s32 = MemoryMarshal.Cast<byte, int>(src);
                for (int i = 0, j = component; i < dst.Length; i++, j += n) dst[i] = Stored(s32[j], shift, signed);
                break;
        }
    }

    private static int Stored(int raw, int shift, bool signed) =>
        signed ? (raw << shift) >> shift : (int)((uint)(raw << shift) >> shift);

    private static DicomException Fail(string what, OpenJpeg.MessageLog log) => new($"{Who}: {what} ({log.Text})");
}
