using SpineXR.Dicom.Codecs;

namespace SpineXR.Dicom.Tests.Codecs;

/// <summary>
/// The decode host's side of the protocol and the HT detection that routes frames to it. That a real host process
/// survives OpenJPEG's abort() is tested in SpineXR.Cli.Tests, where an executable to start exists.
/// </summary>
public class DecodeHostTests
{
    [Theory]
    [InlineData("htj2k_m12", true)]
    [InlineData("htj2k_m8_rpcl", true)]
    [InlineData("htj2klossy_m12", true)]
    [InlineData("j2k_m12", false)]
    [InlineData("j2klossy_rgb8", false)]
    [InlineData("jp2_m12", false)]
    public void The_CAP_marker_tells_HT_code_streams_apart(string name, bool ht) =>
        Assert.Equal(ht, Jpeg2000Codec.DeclaresHighThroughput(CodecFixture.All[name].ReadStream()));

    [Fact]
    public void Truncated_main_headers_are_not_HT() =>
        Assert.False(Jpeg2000Codec.DeclaresHighThroughput(CodecFixture.All["htj2k_m12"].ReadStream()[..30]));

    [Fact]
    public void Serve_answers_each_request_with_the_frame_or_the_error_and_stops_at_end_of_input()
    {
        var good = CodecFixture.All["htj2k_m12"];
        var request = new MemoryStream();
        using (var w = new BinaryWriter(request, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            DecodeHost.WriteRequest(w, good.ReadStream(), good.Format, good.TransferSyntax);
            DecodeHost.WriteRequest(w, good.ReadStream(), good.Format with { Rows = good.Rows + 1 }, good.TransferSyntax); // wrong size
            DecodeHost.WriteRequest(w, good.ReadStream(), good.Format, good.TransferSyntax);
        }
        request.Position = 0;
        var reply = new MemoryStream();
        DecodeHost.Serve(request, reply);
        reply.Position = 0;
        using var r = new BinaryReader(reply);
        Assert.Equal(0, r.ReadByte());
        Assert.Equal("MONOCHROME2", r.ReadString());
        good.AssertMatches(new DecodedFrame(r.ReadBytes(r.ReadInt32()), "MONOCHROME2"));
        Assert.Equal(1, r.ReadByte());
        Assert.Contains("JPEG 2000", r.ReadString());
        Assert.Equal(0, r.ReadByte());
        r.ReadString();
        Assert.Equal(good.Format.FrameBytes, r.ReadBytes(r.ReadInt32()).Length);
        Assert.Equal(reply.Length, reply.Position);
    }

    [Fact]
    public void Without_a_host_the_arguments_are_left_to_the_application()
    {
        Assert.False(DecodeHost.RunIfRequested([]));
        Assert.False(DecodeHost.RunIfRequested(["dicom", "info"]));
        Assert.False(DecodeHost.RunIfRequested([DecodeHost.Argument, "extra"]));
    }
}
