namespace SpineXR.Dicom.Codecs;

/// <summary>
/// JPEG baseline (1.2.840.10008.1.2.4.50, 8-bit) and extended sequential (.51, 8 or 12-bit) DCT decoding with
/// Huffman coding, following the IJG libjpeg decoder that GDCM and dcmtk use: ISLOW inverse DCT
/// (<see cref="JpegIdct"/>), "fancy" triangle upsampling of subsampled chroma and fixed-point YCbCr to RGB.
/// Three-component streams whose dataset says YBR_FULL or YBR_FULL_422 decode to RGB; any other photometric is
/// left as coded (as GDCM does). Progressive and arithmetic-coded streams are refused with a reason.
/// </summary>
public sealed class JpegDctCodec : IPixelCodec
{
    public const string Baseline = "1.2.840.10008.1.2.4.50";
    public const string Extended = "1.2.840.10008.1.2.4.51";
    private const string Who = "JPEG";

    public string Name => "JPEG Baseline / Extended (DCT)";

    public IReadOnlyList<string> TransferSyntaxes { get; } = [Baseline, Extended];

    /// <summary>Zig-zag index to natural (row-major) index (T.81 Figure A.6).</summary>
    private static readonly byte[] NaturalOrder =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
        62, 63,
    ];

    public DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, DecodeOptions? options = null)
    {
        FrameChecks.Validate(format, Who);
        var jpeg = new JpegStream(frame, Who);
        var scan = jpeg.NextScan() ?? throw new DicomException($"{Who}: the stream has no scan");
        if (jpeg.FrameMarker == 0xC3) return new JpegLosslessCodec().Decode(frame, format, JpegLosslessCodec.Process14);
        if (jpeg.FrameMarker is not (0xC0 or 0xC1))
            throw new DicomException($"{Who}: {ProcessName(jpeg.FrameMarker)} is not supported");
        if (jpeg.Precision is not (8 or 12)) throw new DicomException($"{Who}: sample precision {jpeg.Precision} is not 8 or 12");
        FrameChecks.MatchGeometry(format, Who, jpeg.Rows, jpeg.Columns, jpeg.Components.Length);
        FrameChecks.MatchPrecision(format, Who, jpeg.Precision);

        var planes = DecodeComponents(jpeg, scan);
        bool toRgb = jpeg.Components.Length == 3 && format.Photometric is "YBR_FULL" or "YBR_FULL_422";
        var full = new int[jpeg.Components.Length][];
        for (int c = 0; c < full.Length; c++) full[c] = JpegUpsampler.Upsample(jpeg, c, planes[c]);
        if (toRgb) JpegUpsampler.YCbCrToRgb(full[0], full[1], full[2], jpeg.Precision);

        var output = new byte[format.FrameBytes];
        for (int c = 0; c < full.Length; c++) SampleCopy.FromInt32(full[c], output, format.BytesPerSample, c, full.Length);
        return new DecodedFrame(output, toRgb ? "RGB" : format.Photometric);
    }

    /// <summary>A readable name for a SOF marker, for errors.</summary>
    internal static string ProcessName(int sofMarker) => sofMarker switch
    {
        0xC0 => "baseline DCT",
        0xC1 => "extended sequential DCT",
        0xC2 => "progressive DCT",
        0xC3 => "lossless (process 14)",
        >= 0xC5 and <= 0xC7 => "hierarchical JPEG",
        >= 0xC9 and <= 0xCF => "arithmetic-coded JPEG",
        _ => $"JPEG (SOF 0x{sofMarker:X2})",
    };

    /// <summary>One decoded plane per component at its own (block-padded) resolution, with its stride.</summary>
    internal sealed record Plane(int[] Samples, int Stride);

    private static Plane[] DecodeComponents(JpegStream jpeg, JpegStream.Scan? scan)
    {
        var comps = jpeg.Components;
        int mcusX = (jpeg.Columns + 8 * jpeg.MaxH - 1) / (8 * jpeg.MaxH);
        int mcusY = (jpeg.Rows + 8 * jpeg.MaxV - 1) / (8 * jpeg.MaxV);
        var planes = new Plane[comps.Length];
        for (int c = 0; c < comps.Length; c++)
        {
            int stride = mcusX * comps[c].H * 8;
            long size = (long)stride * mcusY * comps[c].V * 8;
            if (size > FrameChecks.MaxFrameBytes) throw new DicomException($"{Who}: the image is too large");
            planes[c] = new Plane(new int[size], stride);
        }
        var done = new bool[comps.Length];
        var idct = new JpegIdct(jpeg.Precision);
        while (scan is not null)
        {
            // Ss, Se, Ah and Al mean nothing in a sequential scan; some encoders write zeros there, which libjpeg
            // accepts with a warning, so they are not checked.
            int end = DecodeScan(jpeg, scan, planes, idct, mcusX, mcusY);
            foreach (int c in scan.ComponentIndices) done[c] = true;
            scan = jpeg.NextScan(end);
        }
        if (Array.IndexOf(done, false) >= 0) throw new DicomException($"{Who}: a component has no scan");
        return planes;
    }

    private static int DecodeScan(JpegStream jpeg, JpegStream.Scan scan, Plane[] planes, JpegIdct idct, int mcusX, int mcusY)
    {
        int n = scan.ComponentIndices.Length;
        var comps = jpeg.Components;
        var dc = new JpegHuffmanTable[n];
        var ac = new JpegHuffmanTable[n];
        var quant = new int[n][];
        for (int k = 0; k < n; k++)
        {
            dc[k] = jpeg.DcTables[scan.DcTables[k]] ?? throw new DicomException($"{Who}: DC Huffman table {scan.DcTables[k]} is not defined");
            ac[k] = jpeg.AcTables[scan.AcTables[k]] ?? throw new DicomException($"{Who}: AC Huffman table {scan.AcTables[k]} is not defined");
            int tq = comps[scan.ComponentIndices[k]].QuantTable;
            quant[k] = jpeg.QuantTables[tq] ?? throw new DicomException($"{Who}: quantisation table {tq} is not defined");
        }

        // An interleaved scan walks MCUs of H x V blocks per component; a single-component scan walks that
        // component's own blocks, only those covering the image (A.2.2 / A.2.3).
        int unitsX, unitsY;
        if (n == 1)
        {
            var c = comps[scan.ComponentIndices[0]];
            unitsX = ((jpeg.Columns * c.H + jpeg.MaxH - 1) / jpeg.MaxH + 7) / 8;
            unitsY = ((jpeg.Rows * c.V + jpeg.MaxV - 1) / jpeg.MaxV + 7) / 8;
        }
        else
        {
            unitsX = mcusX;
            unitsY = mcusY;
        }

        var reader = new JpegBitReader(jpeg.Data, scan.DataStart);
        Span<int> coefficients = stackalloc int[64];
        Span<int> workspace = stackalloc int[64];
        Span<int> predictors = stackalloc int[n];
        predictors.Clear();
        int restart = jpeg.RestartInterval, units = 0;
        int maxCategory = jpeg.Precision == 8 ? 11 : 15;
        for (int uy = 0; uy < unitsY; uy++)
        {
            for (int ux = 0; ux < unitsX; ux++, units++)
            {
                if (restart > 0 && units > 0 && units % restart == 0)
                {
                    if (!reader.Restart()) throw new DicomException($"{Who}: missing restart marker after MCU {units}");
                    predictors.Clear();
                }
                for (int k = 0; k < n; k++)
                {
                    var c = comps[scan.ComponentIndices[k]];
                    var plane = planes[scan.ComponentIndices[k]];
                    int bh = n == 1 ? 1 : c.H, bv = n == 1 ? 1 : c.V;
                    for (int by = 0; by < bv; by++)
                    {
                        for (int bx = 0; bx < bh; bx++)
                        {
                            DecodeBlock(ref reader, dc[k], ac[k], quant[k], ref predictors[k], coefficients, maxCategory);
                            int blockX = ux * bh + bx, blockY = uy * bv + by;
                            idct.Transform(coefficients, workspace, plane.Samples, blockY * 8 * plane.Stride + blockX * 8, plane.Stride);
                        }
                    }
                }
            }
            if (reader.Overrun) throw new DicomException($"{Who}: the entropy-coded data ends early (MCU row {uy + 1} of {unitsY})");
        }
        return reader.Position;
    }

    private static void DecodeBlock(ref JpegBitReader reader, JpegHuffmanTable dc, JpegHuffmanTable ac, int[] quant,
        ref int predictor, scoped Span<int> coefficients, int maxCategory)
    {
        coefficients.Clear();
        int s = dc.Decode(ref reader);
        if (s > maxCategory + 1) throw new DicomException($"{Who}: DC difference category {s} is out of range");
        predictor += reader.ReceiveExtend(s);
        coefficients[0] = predictor * quant[0];
        for (int k = 1; k < 64; k++)
        {
            int rs = ac.Decode(ref reader);
            int run = rs >> 4;
            s = rs & 15;
            if (s == 0)
            {
                if (run != 15) break; // EOB
                k += 15;              // ZRL: sixteen zeros
                continue;
            }
            k += run;
            if (k > 63) throw new DicomException($"{Who}: AC coefficients run past the end of a block");
            coefficients[NaturalOrder[k]] = reader.ReceiveExtend(s) * quant[k];
        }
    }
}
