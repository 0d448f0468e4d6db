namespace SpineXR.Web.Tests;

public sealed class SpineServerOptionsTests
{
    [Fact]
    public void Defaults_are_loopback_64_mib_and_one_slot_per_core()
    {
        var o = new SpineServerOptions().Validate();
        Assert.Equal("http://127.0.0.1:5080", o.Urls);
        Assert.Equal(64L << 20, o.MaxUploadBytes);
        Assert.Equal(Environment.ProcessorCount, o.MaxConcurrency);
        Assert.Null(o.ApiKey);
    }

    [Theory]
    [InlineData("Urls")]
    [InlineData("ApiKey")]
    [InlineData("MaxUploadMB")]
    [InlineData("MaxConcurrency")]
    [InlineData("QueueLength")]
    public void Out_of_range_fields_are_named(string field)
    {
        var o = field switch
        {
            "Urls" => new SpineServerOptions { Urls = "ftp://x" },
            "ApiKey" => new SpineServerOptions { ApiKey = "" },
            "MaxUploadMB" => new SpineServerOptions { MaxUploadMB = 0 },
            "MaxConcurrency" => new SpineServerOptions { MaxConcurrency = 0 },
            _ => new SpineServerOptions { QueueLength = -1 },
        };
        var e = Assert.Throws<ArgumentException>(() => o.Validate());
        Assert.Equal(field, e.ParamName);
    }
}
