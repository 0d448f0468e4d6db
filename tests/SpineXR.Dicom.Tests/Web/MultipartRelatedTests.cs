using System.Text;
using SpineXR.Dicom.Web;

namespace SpineXR.Dicom.Tests.Web;

public class MultipartRelatedTests
{
    [Fact]
    public void Parts_with_crlf_and_dashes_inside_come_back_byte_for_byte()
    {
        byte[] a = [0x0D, 0x0A, (byte)'-', (byte)'-', 0, 1, 2, 0x0D, 0x0A], b = Encoding.ASCII.GetBytes("second\r\n"), empty = [];
        string boundary = MultipartRelated.NewBoundary();
        var body = MultipartRelated.Build(boundary, [a, b, empty]);
        var parts = MultipartRelated.Split(body, boundary);
        Assert.Equal(3, parts.Count);
        Assert.Equal(a, parts[0].Body.ToArray());
        Assert.Equal(b, parts[1].Body.ToArray());
        Assert.Empty(parts[2].Body.ToArray());
        Assert.All(parts, p => Assert.Equal("application/dicom", p.ContentType));
        Assert.Equal($"multipart/related; type=\"application/dicom\"; boundary={boundary}", MultipartRelated.ContentType(boundary));
    }

    [Fact]
    public void A_preamble_is_skipped_and_a_body_without_its_closing_boundary_is_refused()
    {
        var body = Encoding.ASCII.GetBytes("preamble text\r\n--b\r\nContent-Type: application/dicom\r\n\r\nDATA\r\n--b--\r\n");
        Assert.Equal("DATA", Encoding.ASCII.GetString(Assert.Single(MultipartRelated.Split(body, "b")).Body.Span));
        var cut = Encoding.ASCII.GetBytes("--b\r\nContent-Type: application/dicom\r\n\r\nDATA");
        Assert.Contains("not closed", Assert.Throws<DicomException>(() => MultipartRelated.Split(cut, "b")).Message);
        Assert.Contains("no boundary", Assert.Throws<DicomException>(() => MultipartRelated.Split(Encoding.ASCII.GetBytes("junk"), "b")).Message);
    }
}
