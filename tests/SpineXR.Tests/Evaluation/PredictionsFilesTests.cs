using SpineXR.Evaluation;

namespace SpineXR.Tests.Evaluation;

public sealed class PredictionsFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-pred-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string File(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void ClassifierCsvKeepsGoodRowsAndReportsEachBadOne()
    {
        string p = File("c.csv", "image_id,abnormal_prob,logit\na,0.9,2.2\nb,NaN,\nc,abc,\nd,1.5,\n\"e,1\",0.25,\na,0.1,\nf,0.3,\n");
        var r = ClassifierPredictionsFile.Read(p);
        Assert.Equal(["a", "e,1", "f"], r.Items.Select(i => i.ImageId));
        Assert.Equal(2.2, r.Items[0].Logit);
        Assert.Null(r.Items[2].Logit);
        Assert.Equal(4, r.Problems.Count); // NaN, not a number, outside [0, 1], duplicate
        Assert.All(r.Problems, m => Assert.StartsWith(p + ":", m));
        Assert.Contains(r.Problems, m => m.Contains(":3:") && m.Contains("image b") && m.Contains("finite"));
        Assert.Contains(r.Problems, m => m.Contains("appears again"));
    }

    [Fact]
    public void ClassifierCsvWithoutProbabilityColumnFailsNamingFileAndColumn()
    {
        string p = File("c.csv", "image_id,score\na,0.5\n");
        var e = Assert.Throws<SpineXR.IO.MissingColumnException>(() => ClassifierPredictionsFile.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("'abnormal_prob'", e.Message);
    }

    [Fact]
    public void ClassifierCsvRoundTrips()
    {
        string p = Path.Combine(_dir, "o.csv");
        ClassifierPredictionsFile.Write(p, [new("x", 0.123456789012345, -1.5), new("y,z", 1, null)]);
        var r = ClassifierPredictionsFile.Read(p);
        Assert.Empty(r.Problems);
        Assert.Equal(0.123456789012345, r.Items[0].AbnormalProb);
        Assert.Equal("y,z", r.Items[1].ImageId);
    }

    [Fact]
    public void DetectorJsonReportsNaNNegativeSizesAndBadCategories()
    {
        string p = File("d.json", """
            [
              {"image_id": "a", "category": "Osteophytes", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.9},
              {"image_id": "a", "category_id": 6, "bbox": [1, 2, 3, 4], "score": NaN},
              {"image_id": "a", "category_id": 1, "bbox": [1, 2, -3, 4], "score": 0.5},
              {"image_id": "b", "category": "Fracture", "bbox": [1, 2, 3, 4], "score": 0.5},
              {"image_id": "b", "category": "Osteophytes", "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5},
              {"image_id": "b", "category_id": 2, "bbox": [1, 2, 3], "score": 0.5},
              {"image_id": "b", "category_id": 2, "bbox": [1, 2, 3, 4]},
              {"image_id": 17, "category": "Spondylolisthesis", "bbox": [1.5, 2, 0, 4], "score": 0.25},
              {"category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5},
              {"image_id": "c", "category_id": 9, "bbox": [1, 2, 3, 4], "score": 0.5},
              {"image_id": "c", "category_id": 2, "bbox": [1, 2, 3, Infinity], "score": 0.5}
            ]
            """);
        var r = DetectorPredictionsFile.Read(p);
        Assert.Equal(2, r.Items.Count);
        Assert.Equal(new DetectorPrediction("17", 2, 1.5, 2, 0, 4, 0.25), r.Items[1]);
        Assert.Equal(9, r.Problems.Count);
        Assert.Contains(r.Problems, m => m.Contains("entry 1") && m.Contains("score"));
        Assert.Contains(r.Problems, m => m.Contains("entry 2") && m.Contains("negative box size"));
        Assert.Contains(r.Problems, m => m.Contains("entry 3") && m.Contains("unknown category 'Fracture'"));
        Assert.Contains(r.Problems, m => m.Contains("entry 4") && m.Contains("disagrees"));
        Assert.Contains(r.Problems, m => m.Contains("entry 8") && m.Contains("missing image_id"));
        Assert.All(r.Problems, m => Assert.StartsWith(p + " entry ", m));
    }

    [Fact]
    public void DetectorJsonThatIsNotAnArrayFailsWithTheFileName()
    {
        string p = File("d.json", "{\"a\": 1}");
        Assert.Contains(p, Assert.Throws<InvalidDataException>(() => DetectorPredictionsFile.Read(p)).Message);
        string q = File("e.json", "[{\"image_id\": ");
        Assert.Contains(q, Assert.Throws<InvalidDataException>(() => DetectorPredictionsFile.Read(q)).Message);
    }

    [Fact]
    public void DetectorJsonRoundTripsWithCategoryNameAndId()
    {
        string p = Path.Combine(_dir, "o.json");
        DetectorPredictionsFile.Write(p, [new("im", 4, 10.5, 20, 30, 40.25, 0.75)]);
        string text = System.IO.File.ReadAllText(p);
        Assert.Contains("\"category\":\"Disc space narrowing\"", text);
        var r = DetectorPredictionsFile.Read(p);
        Assert.Empty(r.Problems);
        Assert.Equal(new DetectorPrediction("im", 4, 10.5, 20, 30, 40.25, 0.75), r.Items[0]);
    }
}
