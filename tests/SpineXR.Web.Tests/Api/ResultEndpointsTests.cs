using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SkiaSharp;
using SpineXR.Reports;

namespace SpineXR.Web.Tests.Api;

/// <summary>Overlay, image, view metadata and raw endpoints over recent results.</summary>
public sealed class ResultEndpointsTests
{
    private static async Task<string> PostDicom(TestServer ts, int w, int h)
    {
        var c = new ByteArrayContent(TestImages.Dicom(w, h));
        c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        var r = await ts.Client.PostAsync("/api/v1/predict", c);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return r.Headers.GetValues("X-Result-Id").Single();
    }

    [Fact]
    public async Task Overlay_png_shows_boxes_in_class_colours()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        string id = await PostDicom(ts, 400, 300);
        var r = await ts.Client.GetAsync($"/api/v1/overlay/{id}.png");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("image/png", r.Content.Headers.ContentType?.MediaType);
        using var bmp = SKBitmap.Decode(await r.Content.ReadAsByteArrayAsync());
        Assert.Equal(400, bmp.Width);
        Assert.Equal(300, bmp.Height);
        // Left edge of the Osteophytes box (x = 0.1 * 400), halfway down it.
        var edge = bmp.GetPixel(40, (int)(0.2 * 300));
        var want = ClassColors.Of(0);
        Assert.True(Math.Abs(edge.Red - want.Red) + Math.Abs(edge.Green - want.Green) + Math.Abs(edge.Blue - want.Blue) < 40, $"pixel {edge} is not {want}");
    }

    [Fact]
    public async Task Large_images_are_kept_at_view_size_with_boxes_scaled()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { ViewMaxSide = 256 });
        string id = await PostDicom(ts, 1000, 600);
        var meta = JsonDocument.Parse(await ts.Client.GetStringAsync($"/api/v1/results/{id}")).RootElement;
        Assert.Equal(1000, meta.GetProperty("width").GetInt32());
        Assert.Equal(250, meta.GetProperty("view_width").GetInt32());
        Assert.Equal(150, meta.GetProperty("view_height").GetInt32());
        using var bmp = SKBitmap.Decode(await ts.Client.GetByteArrayAsync($"/api/v1/overlay/{id}.png"));
        Assert.Equal(250, bmp.Width);
        var edge = bmp.GetPixel(25, 30);
        Assert.True(edge.Red > 180 && edge.Blue < 100, $"pixel {edge} is not the Osteophytes orange");
    }

    [Fact]
    public async Task Raw_view_round_trips_the_modality_values_and_the_dicom_window()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        string id = await PostDicom(ts, 120, 80);
        var meta = JsonDocument.Parse(await ts.Client.GetStringAsync($"/api/v1/results/{id}")).RootElement;
        Assert.Equal(1600, meta.GetProperty("window_center").GetDouble());
        Assert.Equal(3200, meta.GetProperty("window_width").GetDouble());
        Assert.False(meta.GetProperty("invert").GetBoolean());
        Assert.Equal(3, meta.GetProperty("prediction").GetProperty("boxes").GetArrayLength());
        var raw = await ts.Client.GetByteArrayAsync(meta.GetProperty("raw_url").GetString());
        Assert.Equal(120 * 80 * 2, raw.Length);
        double slope = meta.GetProperty("raw_slope").GetDouble(), icpt = meta.GetProperty("raw_intercept").GetDouble();
        var want = TestImages.SpinePixels(120, 80);
        for (int i = 0; i < want.Length; i += 97)
            Assert.Equal(want[i], icpt + slope * BitConverter.ToUInt16(raw, i * 2), 3);

        var png = await ts.Client.GetAsync($"/api/v1/image/{id}.png");
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        using var bmp = SKBitmap.Decode(await png.Content.ReadAsByteArrayAsync());
        Assert.Equal(120, bmp.Width);
    }

    [Fact]
    public async Task Unknown_or_evicted_ids_give_404_problems()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor(), new SpineServerOptions { RecentResults = 1 });
        var first = await PostDicom(ts, 64, 64);
        var c = new ByteArrayContent(TestImages.Png8(32, 32, (x, y) => 9));
        c.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        Assert.Equal(HttpStatusCode.OK, (await ts.Client.PostAsync("/api/v1/predict", c)).StatusCode);
        foreach (var url in new[] { $"/api/v1/overlay/{first}.png", "/api/v1/overlay/nope.png", "/api/v1/results/nope/raw", "/api/v1/nothing" })
        {
            var r = await ts.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
    }
}
