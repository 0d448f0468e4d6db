using System.Text.Json;
using System.Text.Json.Nodes;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Configuration;

/// <summary>The training configurations in model, solver and input sections (issue 19): keys, overrides, saved layouts.</summary>
public class ConfigSectionsTests
{
    [Fact]
    public void EveryFlatKeyBelongsToOneSectionSoKeysWrittenBeforeTheSplitStillBind()
    {
        foreach (var keys in new[] { ConfigBinder.Keys<DetectorTrainConfig>().ToList(), ConfigBinder.Keys<ClassifierTrainConfig>().ToList() })
            Assert.Equal(keys.Count, keys.Distinct().Count());
        // the flat keys of a detector model.json written before the split are exactly today's keys, plus min_size
        var old = JsonNode.Parse(File.ReadAllText(Fixtures.Path("RunDirs", "detector-pre-engine", ModelCard.FileName)))!["config"]!.AsObject();
        Assert.Equal(old.Select(p => p.Key).Append("min_size").Order(), ConfigBinder.Keys<DetectorTrainConfig>().Where(k => !IsUnsetEfficientDetKey(k)).Order());
    }

    private static bool IsUnsetEfficientDetKey(string k) => k is "backbone_width" or "backbone_depth" or "bifpn_repeats" or "head_repeats" or "anchor_scale";

    [Fact]
    public void FlatAndDottedKeysBindTheSameSetting()
    {
        var cpu = DetectorTrainConfig.Cpu("faster-rcnn");
        var flat = cpu.With([new("lr", "0.05"), new("rpn_batch_size_per_image", "64"), new("h_flip", "0")]);
        var dotted = cpu.With([new("solver.lr", "0.05"), new("model.rpn_batch_size_per_image", "64"), new("input.h_flip", "0")]);
        Assert.Equal(flat.ToJson().GetRawText(), dotted.ToJson().GetRawText());
        Assert.Equal((0.05, 64, 0.0), (flat.Solver.Lr, flat.Model.RpnBatchSizePerImage, flat.Input.HFlip));
        var c = ClassifierTrainConfig.Cpu.With([new("solver.steps", "40"), new("eval_every", "20"), new("model.arch", "densenet_tiny")]);
        Assert.Equal((40, 20, "densenet_tiny"), (c.Solver.Steps, c.Solver.EvalEvery, c.Model.Arch));
    }

    [Fact]
    public void AnUnknownKeyIsOneLineNamingNearKeysOrAllOfThem()
    {
        var cpu = DetectorTrainConfig.Cpu("retinanet");
        var near = Assert.Throws<ArgumentException>(() => cpu.With([new("max_iter", "5")])).Message;
        Assert.Equal("unknown config key 'max_iter' (did you mean solver.max_iters?)", near);
        var wrongSection = Assert.Throws<ArgumentException>(() => cpu.With([new("model.lr", "5")])).Message;
        Assert.Contains("did you mean solver.lr", wrongSection);
        var far = Assert.Throws<ArgumentException>(() => ClassifierTrainConfig.Cpu.With([new("zzzzzz", "1")])).Message;
        Assert.StartsWith("unknown config key 'zzzzzz' (known: arch, input_size,", far);
        Assert.DoesNotContain('\n', far);
    }

    [Fact]
    public void TheTestSizeFollowsTheTrainingSizesUnlessSetAndMustEndThem()
    {
        var cpu = DetectorTrainConfig.Cpu("faster-rcnn");
        Assert.Equal((448, 448), (cpu.Model.MinSize, cpu.Input.MinSizes[^1]));
        var c = cpu.With([new("min_sizes", "320,352")]).Validate();
        Assert.Equal(352, c.Model.MinSize);
        var e = Assert.Throws<ArgumentException>(() => cpu.With([new("min_sizes", "320,352"), new("min_size", "400")]).Validate());
        Assert.Equal("MinSizes", e.ParamName);
        Assert.Contains("must be the model's min_size (400)", e.Message);
        // a JSON file, flat or in sections, follows the same rule
        string path = Path.Combine(Fixtures.TempDir("sizes"), "c.json");
        File.WriteAllText(path, """{"input": {"min_sizes": [256, 288]}, "solver": {"lr": 0.01}, "max_iters": 9}""");
        var j = cpu.WithJson(path).Validate();
        Assert.Equal((288, 0.01, 9), (j.Model.MinSize, j.Solver.Lr, j.Solver.MaxIters));
    }

    [Fact]
    public void SavedConfigurationsReadInTheOldFlatLayoutAndInSections()
    {
        var oldConfig = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("RunDirs", "detector-pre-engine", ModelCard.FileName))).RootElement.GetProperty("config");
        var expected = DetectorTrainConfig.Cpu("retinanet").With([
            new("base_width", "4"), new("fpn_channels", "8"), new("max_iters", "1"), new("batch_size", "1"),
            new("min_sizes", "96"), new("max_size", "128"), new("val_fraction", "0")]);
        var read = DetectorTrainConfig.FromJson(oldConfig);
        Assert.Equal(expected.ToJson().GetRawText(), read.ToJson().GetRawText());
        Assert.Equal(read.ToJson().GetRawText(), DetectorTrainConfig.FromJson(read.ToJson()).ToJson().GetRawText());
        // the loader reads the model section alone, from either layout
        Assert.Equal(expected.Model, DetectorModelConfig.FromCardConfig(oldConfig) with { AnchorSizes = expected.Model.AnchorSizes });
        Assert.Equal(expected.Model.AnchorSizes, DetectorModelConfig.FromCardConfig(oldConfig).AnchorSizes);
        Assert.Equal(96, DetectorModelConfig.FromCardConfig(read.ToJson()).MinSize);

        var classifierOld = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("RunDirs", "classifier-pre-engine", ModelCard.FileName))).RootElement
            .GetProperty("provenance").GetProperty("config");
        var cls = ClassifierTrainConfig.FromJson(classifierOld);
        Assert.Equal(("densenet_tiny", 32, 2, 1), (cls.Model.Arch, cls.Model.InputSize, cls.Solver.Steps, cls.Input.Workers));
    }

    [Fact]
    public void ANewDetectorCardKeepsTheSectionsApart()
    {
        var card = global::SpineXR.Vision.Detection.Training.DetectorTrainer.Card(DetectorTrainConfig.Cpu("sparse-rcnn"), ["a"], "h", null);
        var config = card.Config!.Value;
        Assert.Equal(["input", "model", "solver"], config.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(6, config.GetProperty("model").GetProperty("sparse_one_to_many").GetInt32());
        Assert.Equal(58, config.GetProperty("solver").GetProperty("max_minutes").GetDouble());
        Assert.Equal(4, config.GetProperty("input").GetProperty("min_sizes").GetArrayLength());
        Assert.Equal(448, card.Input!.MinSize);
    }
}
