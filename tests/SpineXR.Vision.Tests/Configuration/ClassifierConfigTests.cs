using SpineXR.Vision.Training;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Configuration;

public class ClassifierConfigTests
{
    [Fact]
    public void PaperPresetIsThePapersSetting()
    {
        var (m, p) = (ClassifierTrainConfig.Paper.Model, ClassifierTrainConfig.Paper.Solver);
        Assert.Equal(("densenet201", 224, 32, 10_000, OptimizerKind.Sgd, 0.01, 0.9), (m.Arch, m.InputSize, p.BatchSize, p.Steps, p.Optimizer, p.Lr, p.Momentum));
        var lr = new LrSchedule(p.Lr, p.Steps, p.Milestones, p.Gamma, p.WarmupSteps);
        Assert.Equal(0.01, lr.At(4999), 12);
        Assert.Equal(0.001, lr.At(5000), 12);
        Assert.Equal(0.0001, lr.At(7500), 12);
    }

    [Fact]
    public void WarmupRampsLinearlyFromOnePercent()
    {
        var lr = new LrSchedule(1.0, 100, [0.5], 0.1, 10);
        Assert.Equal(0.01, lr.At(0), 12);
        Assert.Equal(0.01 * 0.5 + 0.5, lr.At(5), 12);
        Assert.Equal(1.0, lr.At(10), 12);
        Assert.Equal(0.1, lr.At(50), 12);
    }

    [Fact]
    public void JsonFileThenOverridesApplyInOrderAndBadKeysAreNamed()
    {
        string path = Path.Combine(Fixtures.TempDir("cfg"), "c.json");
        File.WriteAllText(path, """{"arch": "densenet121", "steps": 50, "optimizer": "adam_w", "milestones": [0.6]}""");
        var c = ConfigBinder.ApplyJson(ClassifierTrainConfig.Paper, path);
        c = ConfigBinder.ApplyOverrides(c, [new("steps", "70"), new("h_flip", "false"), new("init", "null"), new("loss", "focal")]);
        Assert.Equal(("densenet121", 70, OptimizerKind.AdamW, false, LossKind.Focal), (c.Model.Arch, c.Solver.Steps, c.Solver.Optimizer, c.Input.HFlip, c.Model.Loss));
        Assert.Equal([0.6], c.Solver.Milestones);
        Assert.Equal(224, c.Model.InputSize); // untouched keys keep the preset's value
        Assert.Contains("stepz", Assert.Throws<ArgumentException>(() => ConfigBinder.ApplyOverrides(c, [new("stepz", "1")])).Message);
        Assert.Contains("lr", Assert.Throws<ArgumentException>(() => ConfigBinder.ApplyOverrides(c, [new("lr", "fast")])).Message);
        Assert.Equal("Lr", Assert.Throws<ArgumentException>(() => (c with { Solver = c.Solver with { Lr = -1 } }).Validate()).ParamName);
    }
}
