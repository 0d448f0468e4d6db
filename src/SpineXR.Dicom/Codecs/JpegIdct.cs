namespace SpineXR.Dicom.Codecs;

/// <summary>
/// The 8x8 inverse DCT of the IJG libjpeg "ISLOW" method (jidctint.c: Loeffler-Ligtenberg-Moschytz, 13-bit fixed
/// point, 2 pass-1 bits for 8-bit samples and 1 for 12-bit) and libjpeg's post-IDCT range-limit table, so that
/// decoded samples equal those of libjpeg's default decoder (used by GDCM and dcmtk) bit for bit.
/// </summary>
internal sealed class JpegIdct
{
    private const int ConstBits = 13;
    private const int Fix0_298631336 = 2446, Fix0_390180644 = 3196, Fix0_541196100 = 4433, Fix0_765366865 = 6270;
    private const int Fix0_899976223 = 7373, Fix1_175875602 = 9633, Fix1_501321110 = 12299, Fix1_847759065 = 15137;
    private const int Fix1_961570560 = 16069, Fix2_053119869 = 16819, Fix2_562915447 = 20995, Fix3_072711026 = 25172;

    private readonly int pass1Bits;
    private readonly int rangeMask;
    private readonly int[] rangeLimit;

    public JpegIdct(int precision)
    {
        pass1Bits = precision <= 8 ? 2 : 1;
        int max = (1 << precision) - 1, center = 1 << (precision - 1);
        // jdmaster.c prepare_range_limit_table, post-IDCT part: indexed by (value & rangeMask) where value is
        // centred on zero; in range it is value + center, clamped nearby, and far-out values wrap as in libjpeg.
        rangeMask = 4 * (max + 1) - 1;
        rangeLimit = new int[4 * (max + 1)];
        for (int i = 0; i < rangeLimit.Length; i++)
        {
            rangeLimit[i] = i < center ? i + center
                : i < 2 * (max + 1) ? max
                : i < 4 * (max + 1) - center ? 0
                : i - 4 * (max + 1) + center;
        }
    }

    /// <summary>Transforms dequantised coefficients (natural order) into an 8x8 block of samples at <paramref name="output"/>.</summary>
    public void Transform(scoped Span<int> coefficients, scoped Span<int> workspace, Span<int> output, int outputOffset, int stride)
    {
        int p1 = pass1Bits;
        // Pass 1: columns into the workspace, scaled up by 2^pass1Bits.
        for (int c = 0; c < 8; c++)
        {
            if (coefficients[8 + c] == 0 && coefficients[16 + c] == 0 && coefficients[24 + c] == 0 && coefficients[32 + c] == 0
                && coefficients[40 + c] == 0 && coefficients[48 + c] == 0 && coefficients[56 + c] == 0)
            {
                int dc = coefficients[c] << p1;
                for (int r = 0; r < 8; r++) workspace[8 * r + c] = dc;
                continue;
            }
            int z2 = coefficients[16 + c], z3 = coefficients[48 + c];
            int z1 = (z2 + z3) * Fix0_541196100;
            int tmp2 = z1 + z3 * -Fix1_847759065;
            int tmp3 = z1 + z2 * Fix0_765366865;
            z2 = coefficients[c];
            z3 = coefficients[32 + c];
            int tmp0 = (z2 + z3) << ConstBits;
            int tmp1 = (z2 - z3) << ConstBits;
            int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = coefficients[56 + c];
            tmp1 = coefficients[40 + c];
            tmp2 = coefficients[24 + c];
            tmp3 = coefficients[8 + c];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            int shift = ConstBits - p1, round = 1 << (shift - 1);
            workspace[c] = (tmp10 + tmp3 + round) >> shift;
            workspace[56 + c] = (tmp10 - tmp3 + round) >> shift;
            workspace[8 + c] = (tmp11 + tmp2 + round) >> shift;
            workspace[48 + c] = (tmp11 - tmp2 + round) >> shift;
            workspace[16 + c] = (tmp12 + tmp1 + round) >> shift;
            workspace[40 + c] = (tmp12 - tmp1 + round) >> shift;
            workspace[24 + c] = (tmp13 + tmp0 + round) >> shift;
            workspace[32 + c] = (tmp13 - tmp0 + round) >> shift;
        }

        // Pass 2: rows from the workspace into samples, removing the pass-1 scale and the factor 8.
        int outShift = ConstBits + p1 + 3, outRound = 1 << (outShift - 1);
        int[] limit = rangeLimit;
        int mask = rangeMask;
        for (int r = 0; r < 8; r++)
        {
            var w = workspace.Slice(8 * r, 8);
            var o = output.Slice(outputOffset + r * stride, 8);
            int z2 = w[2], z3 = w[6];
            int z1 = (z2 + z3) * Fix0_541196100;
            int tmp2 = z1 + z3 * -Fix1_847759065;
            int tmp3 = z1 + z2 * Fix0_765366865;
            int tmp0 = (w[0] + w[4]) << ConstBits;
            int tmp1 = (w[0] - w[4]) << ConstBits;
            int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            o[0] = limit[((tmp10 + tmp3 + outRound) >> outShift) & mask];
            o[7] = limit[((tmp10 - tmp3 + outRound) >> outShift) & mask];
            o[1] = limit[((tmp11 + tmp2 + outRound) >> outShift) & mask];
            o[6] = limit[((tmp11 - tmp2 + outRound) >> outShift) & mask];
            o[2] = limit[((tmp12 + tmp1 + outRound) >> outShift) & mask];
            o[5] = limit[((tmp12 - tmp1 + outRound) >> outShift) & mask];
            o[3] = limit[((tmp13 + tmp0 + outRound) >> outShift) & mask];
            o[4] = limit[((tmp13 - tmp0 + outRound) >> outShift) & mask];
        }
    }

    /// <summary>The odd part shared by both passes: inputs 7, 5, 3, 1 in, outputs tmp0..tmp3 out.</summary>
    private static void Odd(ref int tmp0, ref int tmp1, ref int tmp2, ref int tmp3)
    {
        int z1 = tmp0 + tmp3, z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        int z5 = (z3 + z4) * Fix1_175875602;
        tmp0 *= Fix0_298631336;
        tmp1 *= Fix2_053119869;
        tmp2 *= Fix3_072711026;
        tmp3 *= Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 = z3 * -Fix1_961570560 + z5;
        z4 = z4 * -Fix0_390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }
}
