namespace SpineXR.Dicom.Codecs;

/// <summary>
/// Chroma upsampling and colour conversion as IJG libjpeg 6b does them by default (jdsample.c, jdcolor.c): "fancy"
/// triangle filters for 2:1 horizontal and 2:1 both ways, replication for other ratios, edge samples repeated;
/// YCbCr to RGB with 16-bit fixed-point tables.
/// </summary>
internal static class JpegUpsampler
{
    /// <summary>Component <paramref name="c"/> at full image size (rows x columns, no padding).</summary>
    public static int[] Upsample(JpegStream jpeg, int c, JpegDctCodec.Plane plane)
    {
        var comp = jpeg.Components[c];
        int rows = jpeg.Rows, cols = jpeg.Columns;
        int hx = jpeg.MaxH / comp.H, vx = jpeg.MaxV / comp.V;
        if (jpeg.MaxH % comp.H != 0 || jpeg.MaxV % comp.V != 0)
            throw new DicomException($"JPEG: sampling factors {comp.H}x{comp.V} do not divide {jpeg.MaxH}x{jpeg.MaxV}");
        // The component's own size (downsampled_width/height in libjpeg).
        int w = (cols * comp.H + jpeg.MaxH - 1) / jpeg.MaxH;
        int h = (rows * comp.V + jpeg.MaxV - 1) / jpeg.MaxV;
        var src = plane.Samples;
        int stride = plane.Stride;
        var dst = new int[rows * cols];
        bool fancy = w > 2;
        if (hx == 1 && vx == 1)
        {
            for (int y = 0; y < rows; y++) src.AsSpan(y * stride, cols).CopyTo(dst.AsSpan(y * cols, cols));
        }
        else if (hx == 2 && vx == 1 && fancy)
        {
            var line = new int[2 * w];
            for (int y = 0; y < rows; y++)
            {
                H2V1Fancy(src.AsSpan(y * stride, w), line);
                line.AsSpan(0, cols).CopyTo(dst.AsSpan(y * cols));
            }
        }
        else if (hx == 2 && vx == 2 && fancy)
        {
            var line = new int[2 * w];
            for (int y = 0; y < rows; y++)
            {
                int inRow = y >> 1;
                int near = inRow * stride;
                // Even output rows lean on the row above, odd ones on the row below (edges repeat).
                int farRow = (y & 1) == 0 ? Math.Max(inRow - 1, 0) : Math.Min(inRow + 1, h - 1);
                H2V2Fancy(src.AsSpan(near, w), src.AsSpan(farRow * stride, w), line);
                line.AsSpan(0, cols).CopyTo(dst.AsSpan(y * cols));
            }
        }
        else
        {
            for (int y = 0; y < rows; y++)
            {
                int s = (y / vx) * stride;
                var d = dst.AsSpan(y * cols, cols);
                for (int x = 0; x < cols; x++) d[x] = src[s + x / hx];
            }
        }
        return dst;
    }

    private static void H2V1Fancy(ReadOnlySpan<int> input, Span<int> output)
    {
        int w = input.Length, o = 0;
        int v = input[0];
        output[o++] = v;
        output[o++] = (v * 3 + input[1] + 2) >> 2;
        for (int i = 1; i < w - 1; i++)
        {
            v = input[i] * 3;
            output[o++] = (v + input[i - 1] + 1) >> 2;
            output[o++] = (v + input[i + 1] + 2) >> 2;
        }
        v = input[w - 1];
        output[o++] = (v * 3 + input[w - 2] + 1) >> 2;
        output[o] = v;
    }

    private static void H2V2Fancy(ReadOnlySpan<int> near, ReadOnlySpan<int> far, Span<int> output)
    {
        int w = near.Length, o = 0;
        int thisSum = near[0] * 3 + far[0];
        int nextSum = near[1] * 3 + far[1];
        output[o++] = (thisSum * 4 + 8) >> 4;
        output[o++] = (thisSum * 3 + nextSum + 7) >> 4;
        int lastSum = thisSum;
        thisSum = nextSum;
        for (int i = 2; i < w; i++)
        {
            nextSum = near[i] * 3 + far[i];
            output[o++] = (thisSum * 3 + lastSum + 8) >> 4;
            output[o++] = (thisSum * 3 + nextSum + 7) >> 4;
            lastSum = thisSum;
            thisSum = nextSum;
        }
        output[o++] = (thisSum * 3 + lastSum + 8) >> 4;
        output[o] = (thisSum * 4 + 7) >> 4;
    }

    /// <summary>In place: Y, Cb, Cr planes become R, G, B (jdcolor.c ycc_rgb_convert).</summary>
    public static void YCbCrToRgb(int[] y, int[] cb, int[] cr, int precision)
    {
        const int ScaleBits = 16, Half = 1 << (ScaleBits - 1);
        int max = (1 << precision) - 1, center = 1 << (precision - 1);
        var crR = new int[max + 1];
        var cbB = new int[max + 1];
        var crG = new int[max + 1];
        var cbG = new int[max + 1];
        for (int i = 0; i <= max; i++)
        {
            int x = i - center;
            crR[i] = (Fix(1.40200) * x + Half) >> ScaleBits;
            cbB[i] = (Fix(1.77200) * x + Half) >> ScaleBits;
            crG[i] = -Fix(0.71414) * x;
            cbG[i] = -Fix(0.34414) * x + Half;
        }
        for (int i = 0; i < y.Length; i++)
        {
            int l = y[i], b = cb[i] & max, r = cr[i] & max;
            y[i] = Math.Clamp(l + crR[r], 0, max);
            cb[i] = Math.Clamp(l + ((cbG[b] + crG[r]) >> ScaleBits), 0, max);
            cr[i] = Math.Clamp(l + cbB[b], 0, max);
        }

        static int Fix(double v) => (int)(v * (1 << ScaleBits) + 0.5);
    }
}
