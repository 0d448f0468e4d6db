using SpineXR.Boxes;

namespace SpineXR.Tests.Boxes;

public class NmsTests
{
    [Fact]
    public void IouOfHalfOverlappingBoxesIsOneThird()
    {
        Assert.Equal(1f / 3, BoxOps.Iou(new BoxF(0, 0, 10, 10), new BoxF(5, 0, 15, 10)), 6);
        Assert.Equal(0f, BoxOps.Iou(new BoxF(0, 0, 10, 10), new BoxF(10, 0, 20, 10)));
    }

    [Fact]
    public void SuppressesOnlyAboveTheThreshold()
    {
        BoxF[] b = [new(0, 0, 10, 10), new(1, 0, 11, 10), new(5, 0, 15, 10), new(50, 50, 60, 60)];
        float[] s = [0.9f, 0.8f, 0.7f, 0.95f];
        // box 1 overlaps box 0 at IoU .82 -> suppressed; box 2 overlaps box 0 at 1/3 -> kept at threshold .5, dropped at .3.
        Assert.Equal([3, 0, 2], Nms.Run(b, s, 0.5f));
        Assert.Equal([3, 0], Nms.Run(b, s, 0.3f));
    }

    [Fact]
    public void BatchedNmsKeepsOverlapsOfDifferentClasses()
    {
        BoxF[] b = [new(0, 0, 10, 10), new(0, 0, 10, 10), new(0, 0, 10, 10)];
        Assert.Equal([0, 1], Nms.Batched(b, [0.9f, 0.8f, 0.7f], [0, 1, 0], 0.5f));
    }
}
