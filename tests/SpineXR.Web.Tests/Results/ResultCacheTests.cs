using SpineXR.Inference;
using SpineXR.Web.Results;
using SpineXR.Web.Uploads;

namespace SpineXR.Web.Tests.Results;

public sealed class ResultCacheTests
{
    private static RecentResult R(string id, int side = 8, string caller = "me")
    {
        var view = ImageView.Create<byte>(new byte[side * side], new byte[side * side], side, side, 4096);
        var p = new ImagePrediction { File = id, ImageId = id, Width = side, Height = side, Verdict = "normal", Boxes = [] };
        return new RecentResult(id, caller, p, Task.FromResult(view), 4096);
    }

    [Fact]
    public void Least_recently_used_goes_first_and_get_refreshes()
    {
        var c = new ResultCache(2, long.MaxValue);
        c.Put(R("a"));
        c.Put(R("b"));
        Assert.NotNull(c.Get("a", "me"));
        c.Put(R("c"));
        Assert.Null(c.Get("b", "me"));
        Assert.NotNull(c.Get("a", "me"));
        Assert.NotNull(c.Get("c", "me"));
        Assert.Equal(2, c.Count);
    }

    [Fact]
    public void Byte_budget_evicts_and_accounting_returns_to_zero()
    {
        var one = R("x", 100);
        var c = new ResultCache(100, one.Bytes * 2 + 1);
        for (int i = 0; i < 10; i++) c.Put(R("k" + i, 100));
        Assert.Equal(2, c.Count);
        c.Put(R("k9", 100)); // replacing keeps one copy
        Assert.Equal(2, c.Count);
        Assert.Equal(one.Bytes * 2, c.Bytes);
        c.Clear();
        Assert.Equal(0, c.Bytes);
    }

    [Fact]
    public void One_result_larger_than_the_budget_is_still_kept()
    {
        var c = new ResultCache(4, 10);
        c.Put(R("big", 64));
        Assert.NotNull(c.Get("big", "me"));
    }

    [Fact]
    public void A_caller_uploading_fast_evicts_its_own_results_before_anyone_elses()
    {
        var c = new ResultCache(4, long.MaxValue);
        c.Put(R("a1", caller: "alice"));
        c.Put(R("a2", caller: "alice"));
        for (int i = 0; i < 10; i++) c.Put(R("m" + i, caller: "mallory"));
        Assert.NotNull(c.Get("a1", "alice"));
        Assert.NotNull(c.Get("a2", "alice"));
        Assert.NotNull(c.Get("m9", "mallory"));
        Assert.Null(c.Get("m0", "mallory"));
        Assert.Equal(4, c.Count);
        Assert.Null(c.Get("a1", "mallory")); // and nobody reads another caller's result
    }

    [Fact]
    public void A_new_callers_first_result_is_kept_when_every_caller_holds_one()
    {
        var c = new ResultCache(2, long.MaxValue);
        c.Put(R("a", caller: "alice"));
        c.Put(R("b", caller: "bob"));
        c.Put(R("c", caller: "carol"));
        Assert.NotNull(c.Get("c", "carol"));
        Assert.Null(c.Get("a", "alice")); // equal shares: the least recently used goes
        Assert.Equal(2, c.Count);
    }
}
