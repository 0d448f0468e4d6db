using SpineXR.Data;
using SpineXR.Synthesis;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Training;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Training;

/// <summary>One validation split for every trainer: the classifier and the detector validate on the same studies.</summary>
public sealed class ValidationSplitTests
{
    [Fact]
    public void ClassifierDetectorAndInMemorySyntheticSplitsHoldOutTheSameStudies()
    {
        var dir = Directory.CreateTempSubdirectory("spinexr-split-");
        try
        {
            var opts = new SynthOptions { Studies = 24, Seed = 11, SizeScale = 0.25f, Workers = 1 };
            SyntheticDataset.Generate(dir.FullName, opts);
            var index = DatasetIndex.Load(dir.FullName);
            var samples = ClassifierData.Samples(index.Get("train"), ClassifierData.Loader(index, 32));
            var (ctrain, cval) = ClassifierTrainer.SplitByStudy(samples, 0.25, 1999);
            var dc = new DetectorTrainConfig { Input = new() { ValFraction = 0.25 }, Solver = new() { Seed = 1999 } };
            var (dtrain, dval, _) = DatasetSources.Open(dir.FullName, dc);
            var (strain, sval) = SyntheticDetectionSource.TrainAndValidation(opts, 0.25, 1999);

            var classifierVal = cval.Select(s => s.StudyId).ToHashSet();
            Assert.NotEmpty(classifierVal);
            Assert.Equal(classifierVal, dval.Samples.Select(s => s.StudyId).ToHashSet());
            Assert.Equal(classifierVal, sval.Samples.Select(s => s.StudyId).ToHashSet());
            Assert.Equal(ctrain.Select(s => s.ImageId).Order(), dtrain.Samples.Select(s => s.ImageId).Order());
            Assert.Equal(ctrain.Select(s => s.ImageId).Order(), strain.Samples.Select(s => s.ImageId).Order());
            Assert.Empty(classifierVal.Intersect(ctrain.Select(s => s.StudyId)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
