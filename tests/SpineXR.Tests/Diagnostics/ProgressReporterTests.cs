using SpineXR.Diagnostics;

namespace SpineXR.Tests.Diagnostics;

public sealed class ProgressReporterTests
{
    private static string Run(long total, long done, TimeSpan? timeLimit)
    {
        var output = new StringWriter();
        using (var p = new ProgressReporter("train", total, output, timeLimit: timeLimit))
        {
            Thread.Sleep(20);
            p.Advance(done);
        }
        return output.ToString();
    }

    [Fact]
    public void Eta_is_the_time_budget_when_it_ends_first()
    {
        // 1 of a billion items after ~20 ms would take months; the 10-minute budget ends first
        string line = Run(1_000_000_000, 1, TimeSpan.FromMinutes(10));
        Assert.Matches(@"ETA 9:5\d \(budget\)", line);
    }

    [Fact]
    public void Eta_counts_items_when_they_end_before_the_budget()
    {
        string line = Run(4, 2, TimeSpan.FromHours(2));
        Assert.Matches(@"ETA 0:0\d", line);
        Assert.DoesNotContain("budget", line);
        Assert.Contains("2/4", Run(4, 2, null));
    }
}
