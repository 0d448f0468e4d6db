// sRGB (D65) to CIELab (D50, as DICOM specifies for its colour values), then to the 16-bit encoding of PS3.3 C.10.7.1.1:
// L* 0..100 -> 0..0xFFFF, a* and b* -128..127 -> 0..0xFFFF.
namespace SpineXR.Reports;

/// <summary>DICOM-encoded CIELab values for display colours (graphic layers of presentation states).</summary>
public static class CieLab
{
    public static int[] FromRgb(byte r, byte g, byte b)
    {
        static double Linear(byte c)
        {
            double v = c / 255.0;
            return v <= 0.04045 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
        }
        double lr = Linear(r), lg = Linear(g), lb = Linear(b);
        // sRGB to XYZ with the Bradford-adapted D50 matrix
        double x = 0.4360747 * lr + 0.3850649 * lg + 0.1430804 * lb;
        double y = 0.2225045 * lr + 0.7168786 * lg + 0.0606169 * lb;
        double z = 0.0139322 * lr + 0.0971045 * lg + 0.7141733 * lb;
        const double xn = 0.96422, yn = 1.0, zn = 0.82521;
        static double F(double t) => t > 216.0 / 24389 ? Math.Cbrt(t) : (24389.0 / 27 * t + 16) / 116;
        double fx = F(x / xn), fy = F(y / yn), fz = F(z / zn);
        double l = 116 * fy - 16, a = 500 * (fx - fy), bb = 200 * (fy - fz);
        static int Encode(double v, double lo, double hi) => (int)Math.Round(Math.Clamp((v - lo) / (hi - lo), 0, 1) * 0xFFFF);
        return [Encode(l, 0, 100), Encode(a, -128, 127), Encode(bb, -128, 127)];
    }
}
