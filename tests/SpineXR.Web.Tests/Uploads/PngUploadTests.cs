using SpineXR.Inference;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Tests.Uploads;

public sealed class PngUploadTests
{
    [Fact]
    public void Eight_bit_grey_goes_to_the_models_unchanged()
    {
        var png = TestImages.Png8(7, 5, (x, y) => (byte)(x * 30 + y));
        var d = PngUpload.Decode(png, "a.png", new UploadLimits());
        Assert.Equal((7, 5), (d.Image.Width, d.Image.Height));
        for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++) Assert.Equal((byte)(x * 30 + y), d.Image.Gray8[y * 7 + x]);
        Assert.StartsWith("sha256-", d.Image.ImageId);
    }

    [Fact]
    public void Sixteen_bit_grey_is_min_max_scaled_and_keeps_16_bit_values_for_the_view()
    {
        var png = TestImages.Png16(4, 1, (x, y) => (ushort)(1000 + x * 1000));
        var d = PngUpload.Decode(png, "a.png", new UploadLimits());
        Assert.Equal([0, 85, 170, 255], d.Image.Gray8);
        var view = d.BuildView();
        Assert.Equal(1000, view.Intercept + view.Raw[0] * view.Slope);
        Assert.Equal(4000, view.Intercept + view.Raw[3] * view.Slope);
    }

    [Fact]
    public void Corrupt_png_throws_unreadable_with_a_reason()
    {
        var png = TestImages.Png8(50, 50, (x, y) => 1);
        var cut = png[..40];
        var e = Assert.Throws<UnreadableUploadException>(() => PngUpload.Decode(cut, "a.png", new UploadLimits()));
        Assert.Contains("PNG", e.Message);
        Assert.Throws<UnreadableUploadException>(() => PngUpload.Decode(new byte[100], "a.png", new UploadLimits()));
    }

    [Fact]
    public void Decompression_bomb_dimensions_are_refused_before_decoding()
    {
        var png = TestImages.Png8(2, 2, (x, y) => 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 200_000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 200_000);
        var e = Assert.Throws<ImageTooLargeException>(() => PngUpload.Decode(png, "a.png", new UploadLimits()));
        Assert.Contains("200000x200000", e.Message);
        Assert.Contains("at most 50 megapixels", e.Message);
    }

    [Fact]
    public async Task A_16_bit_grey_png_gives_the_models_the_same_input_through_predict_and_serve()
    {
        var png = TestImages.Png16(60, 40, (x, y) => (ushort)(1000 + x * 37 + y * 11));
        string path = Path.Combine(Path.GetTempPath(), "spinexr-png16-" + Guid.NewGuid().ToString("N") + ".png");
        File.WriteAllBytes(path, png);
        try
        {
            var viaPredict = SpineImageLoader.Load(path);
            var fake = new FakePredictor();
            await using var ts = await TestServer.StartAsync(fake);
            var c = new System.Net.Http.ByteArrayContent(png);
            c.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
            Assert.Equal(System.Net.HttpStatusCode.OK, (await ts.Client.PostAsync("/api/v1/predict", c)).StatusCode);
            Assert.Equal(viaPredict.Gray8, fake.LastImage!.Gray8);
            // min-max scaled, as the reference conversion: the full 0..255 range, not the top byte of 1000..3600
            Assert.Equal((0, 255), (viaPredict.Gray8.Min(), viaPredict.Gray8.Max()));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Predicts_png_loader_refuses_a_dimension_bomb_naming_the_file()
    {
        var png = TestImages.Png8(2, 2, (x, y) => 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 16384);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 16384);
        string path = Path.Combine(Path.GetTempPath(), "spinexr-bomb-" + Guid.NewGuid().ToString("N") + ".png");
        File.WriteAllBytes(path, png);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => SpineImageLoader.Load(path));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.Contains("16384x16384", e.Message);
        }
        finally { File.Delete(path); }
    }
}
