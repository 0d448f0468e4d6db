using SpineXR.Web.Uploads;

namespace SpineXR.Web.Tests.Uploads;

public sealed class ImageViewTests
{
    [Fact]
    public void Area_mean_averages_blocks_including_partial_edges()
    {
        // 5 x 3, factor 2 -> 3 x 2; the right column and bottom row are partial blocks.
        ushort[] v = [1, 2, 3, 4, 5,
                      6, 7, 8, 9, 10,
                      11, 12, 13, 14, 15];
        var m = ImageView.AreaMean<ushort>(v, 5, 3, 2, out int w, out int h);
        Assert.Equal((3, 2), (w, h));
        Assert.Equal([4, 6, 7.5, 11.5, 13.5, 15], m);
    }

    [Fact]
    public void Integer_float_and_overflowing_int_paths_agree()
    {
        var rng = new Random(3);
        int w = 37, h = 23;
        var ints = Enumerable.Range(0, w * h).Select(_ => rng.Next(-5000, 5000)).ToArray();
        var floats = ints.Select(v => (float)v).ToArray();
        var huge = ints.Select(v => v * 400_000).ToArray(); // f of these overflow an int: double path
        foreach (int f in new[] { 1, 2, 3, 5, 8 })
        {
            var a = ImageView.AreaMean<int>(ints, w, h, f, out _, out _);
            var b = ImageView.AreaMean<float>(floats, w, h, f, out _, out _);
            var c = ImageView.AreaMean<int>(huge, w, h, f, out _, out _);
            for (int i = 0; i < a.Length; i++)
            {
                Assert.Equal(b[i], a[i], 6);
                Assert.Equal(a[i] * 400_000, c[i], 1);
            }
        }
    }

    [Fact]
    public void Small_images_keep_exact_integer_values_and_the_given_window()
    {
        var px = TestImages.SpinePixels(40, 30);
        var g = new byte[px.Length];
        var view = ImageView.Create<ushort>(px, g, 40, 30, 64, rescaleSlope: 2, rescaleIntercept: -1024, windowCenter: 50, windowWidth: 400, invert: true);
        Assert.Equal((40, 30), (view.Width, view.Height));
        Assert.Equal(1, view.Slope);
        for (int i = 0; i < px.Length; i++) Assert.Equal(px[i] * 2.0 - 1024, view.Intercept + view.Raw[i]);
        Assert.Equal((50.0, 400.0, true), (view.WindowCenter, view.WindowWidth, view.Invert));
    }

    [Fact]
    public void Wide_ranges_spread_over_16_bits_and_default_window_is_the_full_range()
    {
        float[] v = [-1e6f, 0, 1e6f, 5e5f];
        var view = ImageView.Create<float>(v, new byte[4], 2, 2, 64);
        Assert.Equal(0, view.Raw[0]);
        Assert.Equal(65535, view.Raw[2]);
        Assert.Equal(-1e6, view.Intercept, 3);
        Assert.Equal(0, view.WindowCenter, 3);
        Assert.Equal(2e6, view.WindowWidth, 3);
    }

    [Fact]
    public void Longest_side_is_capped()
    {
        var view = ImageView.Create<byte>(new byte[3000 * 1000], new byte[3000 * 1000], 3000, 1000, 1024);
        Assert.Equal((1000, 334), (view.Width, view.Height));
        Assert.Equal(1000 / 3000.0, view.Scale, 9);
    }
}
