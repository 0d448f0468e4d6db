using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Tests.Uploads;

/// <summary>DICOM uploads written by SpineXR.Dicom's writer: the models get exactly the reference conversion.</summary>
public sealed class DicomUploadTests
{
    private static byte[] Monochrome1(out ushort[] px)
    {
        px = TestImages.SpinePixels(96, 64);
        var header = new GrayscaleImageHeader
        {
            Rows = 64, Columns = 96, Photometric = "MONOCHROME1", UidSeed = "web-test-mono1", WindowCenter = 2000, WindowWidth = 1000,
        };
        return DicomImageWriter.ToBytes(header, px);
    }

    [Fact]
    public async Task Models_receive_the_reference_8_bit_conversion_and_the_viewer_knows_to_invert()
    {
        var fake = new FakePredictor();
        await using var ts = await TestServer.StartAsync(fake);
        var bytes = Monochrome1(out var px);
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        var r = await ts.Client.PostAsync("/api/v1/predict", c);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var file = DicomFile.Read(bytes);
        var want = GrayscaleRenderer.ToGray8(PixelDecoder.DecodeGray(file), file.Dataset);
        Assert.Equal(want, fake.LastImage!.Gray8);
        Assert.Equal(file.Dataset.GetString(DicomTags.SOPInstanceUID), fake.LastImage.SopInstanceUid);
        Assert.NotNull(fake.LastImage.StudyInstanceUid);

        string id = r.Headers.GetValues("X-Result-Id").Single();
        var meta = JsonDocument.Parse(await ts.Client.GetStringAsync($"/api/v1/results/{id}")).RootElement;
        Assert.True(meta.GetProperty("invert").GetBoolean());
        Assert.Equal(2000, meta.GetProperty("window_center").GetDouble());
        Assert.Equal(1000, meta.GetProperty("window_width").GetDouble());
        // The raw view is not inverted (the browser does it); the stored ramp survives.
        var raw = await ts.Client.GetByteArrayAsync($"/api/v1/results/{id}/raw");
        double icpt = meta.GetProperty("raw_intercept").GetDouble();
        Assert.Equal(px[0], icpt + BitConverter.ToUInt16(raw, 0));
    }

    [Fact]
    public void Reader_errors_become_unreadable_with_the_readers_reason()
    {
        var bytes = Monochrome1(out _);
        var cut = bytes[..(bytes.Length - 3000)];
        var e = Assert.Throws<UnreadableUploadException>(() => DicomUpload.Decode(cut, "cut.dcm", new UploadLimits()));
        Assert.IsType<DicomException>(e.InnerException);
        Assert.DoesNotContain("cut.dcm: ", e.Message); // the API adds the name once
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }
}
