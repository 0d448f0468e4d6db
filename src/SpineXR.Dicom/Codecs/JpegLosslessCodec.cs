namespace SpineXR.Dicom.Codecs;

/// <summary>
/// JPEG lossless, process 14 (ITU-T T.81 Annex H): 1.2.840.10008.1.2.4.57 with any selection value 1-7 and .70
/// (selection value 1). Huffman-coded differences from one of the seven predictors, point transform, restart
/// intervals, precision 2-16, one or more (interleaved or separate) components. Output is exactly the coded samples,
/// shifted back by the point transform, as libjpeg's lossless decoder (inside GDCM and dcmtk) gives them.
/// </summary>
public sealed class JpegLosslessCodec : IPixelCodec
{
    public const string Process14 = "1.2.840.10008.1.2.4.57";
    public const string Process14Sv1 = "1.2.840.10008.1.2.4.70";
    private const string Who = "JPEG lossless";

    public string Name => "JPEG Lossless (process 14)";

    public IReadOnlyList<string> TransferSyntaxes { get; } = [Process14, Process14Sv1];

    public DecodedFrame Decode(ReadOnlySpan<byte> frame, PixelFormat format, string transferSyntax, DecodeOptions? options = null)
    {
        FrameChecks.Validate(format, Who);
        var jpeg = new JpegStream(frame, Who);
        var scan = jpeg.NextScan() ?? throw new DicomException($"{Who}: the stream has no scan");
        if (jpeg.FrameMarker != 0xC3)
            throw new DicomException($"{Who}: the stream is {JpegDctCodec.ProcessName(jpeg.FrameMarker)}, not lossless (SOF3)");
        if (jpeg.Precision is < 2 or > 16) throw new DicomException($"{Who}: sample precision {jpeg.Precision} is outside 2..16");
        FrameChecks.MatchGeometry(format, Who, jpeg.Rows, jpeg.Columns, jpeg.Components.Length);
        FrameChecks.MatchPrecision(format, Who, jpeg.Precision);
        if (jpeg.Components.Any(c => c.H != 1 || c.V != 1))
            throw new DicomException($"{Who}: subsampled components are not supported");

        int pixels = format.Rows * format.Columns;
        var planes = new int[jpeg.Components.Length][];
        for (int i = 0; i < planes.Length; i++) planes[i] = new int[pixels];
        var decoded = new bool[planes.Length];
        while (scan is not null)
        {
            int end = DecodeScan(jpeg, scan, planes);
            foreach (int c in scan.ComponentIndices) decoded[c] = true;
            scan = jpeg.NextScan(end);
        }
        if (Array.IndexOf(decoded, false) >= 0) throw new DicomException($"{Who}: a component has no scan");

        var output = new byte[format.FrameBytes];
        for (int i = 0; i < planes.Length; i++)
            SampleCopy.FromInt32(planes[i], output, format.BytesPerSample, i, planes.Length);
        return new DecodedFrame(output, format.Photometric);
    }

    /// <summary>Decodes one scan into <paramref name="planes"/>; returns where its entropy-coded data ended.</summary>
    private static int DecodeScan(JpegStream jpeg, JpegStream.Scan scan, int[][] planes)
    {
        int predictor = scan.Ss, pt = scan.Al;
        if (predictor is < 1 or > 7) throw new DicomException($"{Who}: selection value {predictor} is not 1..7");
        if (pt >= jpeg.Precision) throw new DicomException($"{Who}: point transform {pt} is not below the precision {jpeg.Precision}");
        int n = scan.ComponentIndices.Length;
        var tables = new JpegHuffmanTable[n];
        for (int k = 0; k < n; k++)
            tables[k] = jpeg.DcTables[scan.DcTables[k]] ?? throw new DicomException($"{Who}: the scan uses Huffman table {scan.DcTables[k]}, which is not defined");

        int rows = jpeg.Rows, cols = jpeg.Columns;
        int initial = 1 << (jpeg.Precision - pt - 1);
        int mask = (1 << (jpeg.Precision - pt)) - 1;
        int restart = jpeg.RestartInterval;
        var reader = new JpegBitReader(jpeg.Data, scan.DataStart);
        int mcu = 0;
        int firstLineRow = 0;      // the row that counts as "first line" (the first row, or the row a restart fell in)
        bool restartSample = true; // the next sample is the first of the scan or of a restart interval
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < cols; x++, mcu++)
            {
                if (restart > 0 && mcu > 0 && mcu % restart == 0)
                {
                    if (!reader.Restart()) throw new DicomException($"{Who}: missing restart marker after MCU {mcu}");
                    restartSample = true;
                    firstLineRow = y;
                }
                int at = y * cols + x;
                for (int k = 0; k < n; k++)
                {
                    int[] p = planes[scan.ComponentIndices[k]];
                    int prediction;
                    if (restartSample) prediction = initial;
                    else if (y == firstLineRow) prediction = p[at - 1];
                    else if (x == 0) prediction = p[at - cols];
                    else
                    {
                        int ra = p[at - 1], rb = p[at - cols], rc = p[at - cols - 1];
                        prediction = predictor switch
                        {
                            1 => ra,
                            2 => rb,
                            3 => rc,
                            4 => ra + rb - rc,
                            5 => ra + ((rb - rc) >> 1),
                            6 => rb + ((ra - rc) >> 1),
                            _ => (ra + rb) >> 1,
                        };
                    }
                    int s = tables[k].Decode(ref reader);
                    int diff = s switch
                    {
                        0 => 0,
                        16 => 32768,
                        > 16 => throw new DicomException($"{Who}: difference category {s} is above 16"),
                        _ => reader.ReceiveExtend(s),
                    };
                    // Arithmetic is modulo 2^16 (H.1.2.1); the sample keeps precision - Pt bits.
                    p[at] = (prediction + diff) & mask;
                }
                restartSample = false;
            }
            if (reader.Overrun) throw new DicomException($"{Who}: the entropy-coded data ends early (row {y + 1} of {rows})");
        }
        if (pt > 0)
        {
            foreach (int c in scan.ComponentIndices)
            {
                int[] p = planes[c];
                for (int i = 0; i < p.Length; i++) p[i] <<= pt;
            }
        }
        return reader.Position;
    }
}
