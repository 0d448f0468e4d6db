using Microsoft.Playwright;

namespace SpineXR.Web.Tests.Viewer;

/// <summary>
/// The viewer in a real browser: Debian's headless Chromium (installed by scripts/setup.sh --test) driven by
/// Playwright, against the real server. Opens the page, uploads a DICOM through the file input, waits for the
/// boxes, checks the overlay is drawn in class colours and that the score slider and class toggles filter it.
/// </summary>
public sealed class ViewerBrowserTests
{
    [Fact]
    public async Task Uploaded_dicom_shows_verdict_and_boxes_in_class_colours()
    {
        await using var ts = await TestServer.StartAsync(new FakePredictor());
        using var pw = await HeadlessChromium.StartAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add(m.Text + " " + m.Location); };
        page.PageError += (_, e) => consoleErrors.Add(e);
        // Anything leaving the server's origin would be a defect (and would hang offline).
        var foreign = new List<string>();
        page.Request += (_, r) => { if (!r.Url.StartsWith(ts.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal) && !r.Url.StartsWith("blob:") && !r.Url.StartsWith("data:")) foreign.Add(r.Url); };

        await page.GotoAsync(ts.BaseAddress.ToString());
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#classes input').length === 7");
        await page.SetInputFilesAsync("#file", new FilePayload
        {
            Name = "spine.dcm", MimeType = "application/dicom", Buffer = TestImages.Dicom(512, 640),
        });
        await page.WaitForSelectorAsync("body[data-state=done]", new PageWaitForSelectorOptions { Timeout = 30_000 });

        Assert.Equal(3, await page.Locator("#boxes li").CountAsync());
        Assert.Equal("3", await page.GetAttributeAsync("body", "data-boxes"));
        Assert.Equal("Abnormal", await page.InnerTextAsync("#verdictText"));
        Assert.Contains("P(abnormal)", await page.InnerTextAsync("#probText"));

        // Overlay canvas: the Osteophytes box edge (x = 0.1 * 512) is drawn in its class colour.
        string colorProbe = @"([x, y]) => {
            const c = document.getElementById('overlay');
            const d = c.getContext('2d').getImageData(x - 2, y, 5, 1).data;
            for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200) return [d[i], d[i + 1], d[i + 2]];
            return null; }";
        var px = await page.EvaluateAsync<int[]?>(colorProbe, new[] { 51, 192 });
        Assert.NotNull(px);
        Assert.True(Math.Abs(px![0] - 0xE6) + Math.Abs(px[1] - 0x9F) + Math.Abs(px[2] - 0x00) < 30, $"overlay pixel {string.Join(',', px)} is not Osteophytes orange");

        // The image canvas shows the DICOM (bright block in the middle, dark at the left edge).
        var grey = await page.EvaluateAsync<int[]>(@"() => {
            const d = document.getElementById('image').getContext('2d');
            return [d.getImageData(256, 320, 1, 1).data[0], d.getImageData(2, 320, 1, 1).data[0]]; }");
        Assert.True(grey[0] > 200 && grey[1] < 80, $"image grey {grey[0]} (centre) / {grey[1]} (edge)");

        string shot = Path.Combine(AppContext.BaseDirectory, "viewer-screenshot.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 10_000);

        // The detector's box that the decision rule dropped shows on request.
        await page.Locator("#allBoxes").CheckAsync();
        Assert.Equal("4", await page.GetAttributeAsync("body", "data-boxes"));
        await page.Locator("#allBoxes").UncheckAsync();
        Assert.Equal("3", await page.GetAttributeAsync("body", "data-boxes"));

        // Score slider at 0.5 keeps the 0.9 and 0.6 boxes; hiding Osteophytes leaves one.
        await page.Locator("#minScore").FillAsync("0.5");
        Assert.Equal("2", await page.GetAttributeAsync("body", "data-boxes"));
        await page.Locator("#classes input[data-class-id='0']").UncheckAsync();
        Assert.Equal("1", await page.GetAttributeAsync("body", "data-boxes"));
        Assert.Null(await page.EvaluateAsync<int[]?>(colorProbe, new[] { 51, 192 }));

        // Window/level: narrowing the window around the block's level turns the ramp at the edge black.
        await page.Locator("#ww").FillAsync("200");
        await page.Locator("#wc").FillAsync("3030");
        await page.WaitForFunctionAsync("() => document.getElementById('image').getContext('2d').getImageData(2, 320, 1, 1).data[0] === 0");

        Assert.Empty(foreign);
        Assert.Empty(consoleErrors);
    }
}
