using SpineXR.Diagnostics;

namespace SpineXR.Tests.Diagnostics;

public class BackgroundThreadTests
{
    [Fact]
    public async Task Runs_the_body_on_its_own_thread_at_lowered_priority()
    {
        int? outside = BackgroundThread.CurrentThreadNiceness();
        int? inside = null;
        string? name = null;
        bool pool = true;
        await BackgroundThread.Run("test worker", () =>
        {
            inside = BackgroundThread.CurrentThreadNiceness();
            name = Thread.CurrentThread.Name;
            pool = Thread.CurrentThread.IsThreadPoolThread;
        });
        Assert.Equal("test worker", name);
        Assert.False(pool);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(Math.Min(19, outside!.Value + BackgroundThread.Niceness), inside);
            Assert.Equal(outside, BackgroundThread.CurrentThreadNiceness()); // the caller keeps its priority
        }
    }

    [Fact]
    public async Task Exceptions_and_cancellation_reach_the_task()
    {
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => BackgroundThread.Run("failing", () => throw new InvalidDataException("bad")));
        Assert.Equal("bad", e.Message);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var t = BackgroundThread.Run("cancelled", () => cts.Token.ThrowIfCancellationRequested());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t);
        Assert.True(t.IsCanceled);
    }
}
