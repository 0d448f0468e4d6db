using SpineXR.Web.Api;

namespace SpineXR.Web.Tests.Api;

public sealed class PredictionQueueTests
{
    [Fact]
    public async Task Admits_running_plus_waiting_and_releases_on_dispose()
    {
        using var q = new PredictionQueue(2, 1);
        var a = q.TryAdmit()!; var b = q.TryAdmit()!; var c = q.TryAdmit()!;
        Assert.Null(q.TryAdmit());
        await a.WaitTurnAsync(default);
        await b.WaitTurnAsync(default);
        var third = c.WaitTurnAsync(default);
        Assert.False(third.IsCompleted);
        Assert.Equal((2, 1), (q.Running, q.Waiting));
        a.Dispose();
        await third;
        Assert.NotNull(q.TryAdmit());
        b.Dispose(); c.Dispose();
        Assert.InRange(q.RetryAfterSeconds(), 1, 120);
    }

    [Fact]
    public async Task A_cancelled_wait_gives_its_place_back()
    {
        using var q = new PredictionQueue(1, 1);
        var a = q.TryAdmit()!;
        await a.WaitTurnAsync(default);
        var b = q.TryAdmit()!;
        using var cts = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitTurnAsync(cts.Token));
        b.Dispose();
        a.Dispose();
        Assert.Equal((0, 0), (q.Running, q.Waiting));
        var c = q.TryAdmit()!;
        await c.WaitTurnAsync(default);
        c.Dispose();
    }
}
