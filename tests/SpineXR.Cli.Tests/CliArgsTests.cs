namespace SpineXR.Cli.Tests;

public class CliArgsTests
{
    private static readonly HashSet<string> Flags = ["force"];

    [Fact]
    public void Options_flags_overrides_and_positionals_are_told_apart()
    {
        var a = CliArgs.Parse(["in1", "--out", "o", "--force", "lr=0.1", "--tag=x", "--tag", "y", "in2"], Flags);
        Assert.Equal(["in1", "in2"], a.Positionals);
        Assert.Equal("o", a.Get("out"));
        Assert.True(a.Flag("force"));
        Assert.Equal(["x", "y"], a.GetAll("tag"));
        Assert.Equal([new KeyValuePair<string, string>("lr", "0.1")], a.Overrides);
        Assert.Empty(a.Unused());
    }

    [Fact]
    public void A_trailing_option_without_value_is_an_error_only_when_read()
    {
        var typo = CliArgs.Parse(["in", "--bogus"], Flags);
        Assert.Equal(["bogus"], typo.Unused()); // reported as ignored, not as "needs a value"
        var missing = CliArgs.Parse(["in", "--out"], Flags);
        Assert.Equal("--out needs a value", Assert.Throws<UsageException>(() => missing.Get("out")).Message);
        // A flag typo in the middle does not take the next option as its value.
        var middle = CliArgs.Parse(["in", "--forc", "--force", "--out", "--tag", "x"], Flags);
        Assert.True(middle.Flag("force"));
        Assert.Equal("x", middle.Get("tag"));
        Assert.Equal("--out needs a value", Assert.Throws<UsageException>(() => middle.Get("out")).Message);
        Assert.Equal(["forc"], middle.Unused());
    }

    [Fact]
    public void Flags_take_no_value_and_numbers_are_checked()
    {
        Assert.Throws<UsageException>(() => CliArgs.Parse(["--force=yes"], Flags));
        var a = CliArgs.Parse(["--n", "x"], Flags);
        Assert.Equal("--n expects an integer, got 'x'", Assert.Throws<UsageException>(() => a.GetInt("n", 1)).Message);
        Assert.Equal(7, CliArgs.Parse([], Flags).GetInt("n", 7));
    }
}
