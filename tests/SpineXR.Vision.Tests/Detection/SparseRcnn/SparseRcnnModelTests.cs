using SpineXR.Vision.Detection;
using static TorchSharp.torch;
using SparseModel = SpineXR.Vision.Detection.SparseRcnn;

namespace SpineXR.Vision.Tests.Detection.SparseRcnn;

public class SparseRcnnModelTests
{
    public SparseRcnnModelTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ParameterNamesFollowTheOfficialModuleStructure()
    {
        using var scope = NewDisposeScope();
        using var model = new SparseModel(SparseRcnnConfig.Tiny());
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.Equal(new long[] { 20, 32 }, p["init_proposal_features.weight"].shape);
        Assert.Equal(new long[] { 20, 4 }, p["init_proposal_boxes.weight"].shape);
        Assert.Equal(new float[] { 0.5f, 0.5f, 1, 1 }, p["init_proposal_boxes.weight"][7].data<float>().ToArray());
        foreach (var n in new[] { "head.head_series.2.self_attn.in_proj_weight", "head.head_series.0.inst_interact.dynamic_layer.bias",
                     "backbone.body.layer1.0.conv1.weight", "backbone.fpn.inner_blocks.0.0.weight", "backbone.fpn.layer_blocks.3.0.bias" })
            Assert.True(p.ContainsKey(n), n);
        Assert.DoesNotContain(p.Keys, k => k.StartsWith("head.head_series.3", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void FactoryShapesAndFiniteLossesAndGradients(int seed)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        var config = SparseRcnnConfig.Tiny() with { NumClasses = 2 };
        using var model = new SparseModel(config);
        // Two images of different size, one without boxes.
        var (images, targets) = TinyShapes.Make(2, 96, seed);
        images[1] = nn.functional.interpolate(images[1].unsqueeze(0), size: [80, 112]).squeeze(0);
        targets[1] = new DetectionTarget(zeros(0, 4), zeros(0, dtype: ScalarType.Int64));
        model.train();
        var losses = model.Losses(images, targets, new Random(seed));
        Assert.Equal(3 * config.NumStages, losses.Count);
        Assert.Contains("loss_giou_1", losses.Keys);
        foreach (var (k, v) in losses)
            Assert.True(float.IsFinite(v.item<float>()), k);
        losses.Values.Aggregate((a, b) => a + b).backward();
        Assert.All(model.parameters().Where(x => x.grad is not null), x => Assert.True(isfinite(x.grad!).all().item<bool>()));
        Assert.NotNull(model.named_parameters().First(x => x.name == "init_proposal_boxes.weight").parameter.grad);

        model.eval();
        var dets = model.Detect(images);
        Assert.Equal(2, dets.Count);
        for (int i = 0; i < 2; i++)
        {
            var d = dets[i];
            Assert.InRange(d.Boxes.shape[0], 1, config.DetectionsPerImage);
            Assert.Equal(d.Boxes.shape[0], d.Scores.shape[0]);
            var s = d.Scores.data<float>().ToArray();
            Assert.Equal(s.OrderByDescending(v => v), s);
            Assert.True(d.Labels.max().item<long>() < 2 && d.Labels.min().item<long>() >= 0);
            Assert.True(d.Boxes.min().item<float>() >= 0);
            Assert.True(d.Boxes.select(1, 2).max().item<float>() <= images[i].shape[2]);
            Assert.True(d.Boxes.select(1, 3).max().item<float>() <= images[i].shape[1]);
        }
    }

    [Fact]
    public void GridProposalsTileTheImageAndImageProposalsCoverIt()
    {
        using var image = SparseModel.InitialProposals(3, ProposalInit.Image);
        Assert.Equal(new float[] { 0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1 }, image.data<float>().ToArray());

        // 6 proposals: 3 columns x 2 rows, cells 1/3 x 1/2, boxes twice the cell clipped to [0, 1].
        using var grid = SparseModel.InitialProposals(6, ProposalInit.Grid);
        var g = grid.data<float>().ToArray();
        // first: cell centre (1/6, 1/4), box 2/3 x 1 -> x -1/6..1/2, y -1/4..3/4, clipped to x 0..1/2, y 0..3/4
        float[] first = [0.25f, 0.375f, 0.5f, 0.75f];
        float[] middle = [0.5f, 0.375f, 2 / 3f, 0.75f]; // x 1/6..5/6
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(first[k], g[k], 5);
            Assert.Equal(middle[k], g[4 + k], 5);
        }
        // every box inside the image; centres distinct
        for (int i = 0; i < 6; i++)
        {
            Assert.True(g[4 * i] - g[4 * i + 2] / 2 >= -1e-6 && g[4 * i] + g[4 * i + 2] / 2 <= 1 + 1e-6);
            Assert.True(g[4 * i + 1] - g[4 * i + 3] / 2 >= -1e-6 && g[4 * i + 1] + g[4 * i + 3] / 2 <= 1 + 1e-6);
        }
        Assert.Equal(6, Enumerable.Range(0, 6).Select(i => (g[4 * i], g[4 * i + 1])).Distinct().Count());
    }

    [Fact]
    public void NmsOptionRemovesSameClassDuplicates()
    {
        using var scope = NewDisposeScope();
        using var model = new SparseModel(SparseRcnnConfig.Tiny() with { NmsThreshold = 0.7 });
        // Proposals 0 and 1 are the same box; proposal 2 is elsewhere.
        var logits = tensor(new float[] { 3, -5, -5, 2, -5, -5, -5, 1, -5 }).reshape(3, 3);
        var boxes = tensor(new float[] { 10, 10, 40, 40, 10, 10, 40, 41, 50, 50, 90, 90 }).reshape(3, 4);
        var (b, s, l) = SparseModel.Postprocess(model.Config, logits, boxes, (96, 96), (192, 192));
        Assert.Equal(new long[] { 0, 1 }, l.data<long>().ToArray().Take(2));
        Assert.Equal(new float[] { 20, 20, 80, 80 }, b[0].data<float>().ToArray()); // scaled to the original size
        var labels = l.data<long>().ToArray();
        var kept = b.data<float>().ToArray().Chunk(4).Select((x, i) => (Box: x, Label: labels[i])).ToArray();
        // Of the 3 x 3 (proposal, class) pairs, each class loses one of the two overlapping proposals.
        Assert.Equal(6, kept.Length);
        Assert.DoesNotContain(kept, k => k.Label == 0 && k.Box[3] == 82);
        Assert.All(kept.GroupBy(k => k.Label), g => Assert.Equal(2, g.Count()));
        Assert.True(s[0].item<float>() > s[1].item<float>());
    }
}
