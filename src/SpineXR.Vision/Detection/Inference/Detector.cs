// Lesion detector inference over a run directory (model.json + weights.safetensors, or model.onnx on the onnx
// backend): batched eval-mode forward,
// boxes mapped back to original image pixels, optional horizontal-flip test-time augmentation merged by weighted
// boxes fusion (Solovyev et al., 2021).
using System.Text.Json;
using SpineXR.Boxes;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Weights;
using static TorchSharp.torch;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Detection.Inference;

/// <summary>A trained lesion detector: <see cref="Predict"/> turns grayscale images into detections in original pixels.</summary>
public sealed class Detector : IDisposable
{
    private readonly IDisposable _owner;
    private readonly IDetectionModel _model;

    /// <summary>The model configuration (model.json's config.model): all that loading and running the detector need.</summary>
    public DetectorModelConfig Config { get; }
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; init; } = 2;

    /// <summary>Horizontal-flip TTA merged by WBF (default: the run's configuration).</summary>
    public bool Tta { get; set; }

    public Detector(DetectorModelConfig config, IReadOnlyList<string> classes, nn.Module module)
        : this(config, classes, (IObjectDetector)module, module)
    {
        module.eval();
    }

    /// <summary>A detector on any engine; <paramref name="owner"/> (the module or the ONNX session) is disposed with it.</summary>
    public Detector(DetectorModelConfig config, IReadOnlyList<string> classes, IDetectionModel model, IDisposable owner)
    {
        Config = config;
        Classes = classes;
        _model = model;
        _owner = owner;
        Tta = config.Tta;
    }

    /// <summary>The engine that runs the model.</summary>
    public InferenceBackend Backend => _model is IObjectDetector ? InferenceBackend.Libtorch : InferenceBackend.Onnx;

    /// <summary>Opens RUN_DIR (model.json, weights.safetensors); the error names what is missing.</summary>
    public static Detector Load(string runDir, InferenceEngine? engine = null)
    {
        engine = (engine ?? InferenceEngine.Default).Validate();
        string weights = Path.Combine(runDir, "weights.safetensors");
        var card = ModelCard.Load(runDir, ModelCard.DetectionTask);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{runDir}: no weights.safetensors (training has not saved a model yet)", weights);
        var config = card.DetectorModel(runDir);
        IReadOnlyList<string> classes = card.Classes;
        TorchRuntime.EnsureLoaded();
        if (engine.Backend == InferenceBackend.Onnx)
        {
            var session = OnnxRunModel.Open(runDir, engine.Device);
            string path = Path.Combine(runDir, OnnxRunModel.FileName);
            try
            {
                IDetectionModel onnx = DetectorRegistry.Get(config.Arch) switch
                {
                    EfficientDetDetectorArchitecture effdet => new OnnxEfficientDet(session, effdet.ModelConfig(config, classes.Count), path),
                    FasterRcnnArchitecture => new OnnxFasterRCNN(session, FasterRcnnArchitecture.ModelConfig(config, classes.Count), path),
                    SparseRcnnDetectorArchitecture => new OnnxSparseRcnn(session, SparseRcnnDetectorArchitecture.ModelConfig(config, classes.Count), path),
                    RetinaNetArchitecture => new OnnxRetinaNet(session, config.ToRetinaNetConfig(classes.Count), path),
                    _ => throw new NotSupportedException($"{runDir}: the onnx backend has no session for '{config.Arch}' (docs/onnx.md)"),
                };
                return new Detector(config, classes, onnx, (IDisposable)onnx);
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
        var module = config.BuildModel(classes.Count);
        StateDict.LoadFile(module, weights, skip: DetectorArchitectures.IsNumBatchesTracked);
        return new Detector(config, classes, module);
    }

    /// <summary>Detections per image (xyxy in the images' original pixels, class ids 0-based, by decreasing score).</summary>
    public List<ScoredBox[]> Predict(IReadOnlyList<GrayImageF> images)
    {
        var result = new List<ScoredBox[]>(images.Count);
        for (int s = 0; s < images.Count; s += BatchSize)
        {
            var batch = images.Skip(s).Take(BatchSize).ToList();
            var plain = Forward(batch, flip: false);
            if (!Tta)
            {
                result.AddRange(plain);
                continue;
            }
            var flipped = Forward(batch, flip: true);
            for (int i = 0; i < batch.Count; i++)
            {
                float w = batch[i].Width / batch[i].Scale, h = batch[i].Height / batch[i].Scale;
                result.Add(WeightedBoxesFusion.Fuse([plain[i], flipped[i]], w, h));
            }
        }
        return result;
    }

    private List<ScoredBox[]> Forward(IReadOnlyList<GrayImageF> batch, bool flip)
    {
        using var scope = NewDisposeScope();
        var tensors = batch.Select(im => DetectorTensor.FromGray(im, flip)).ToArray();
        var dets = _model.Detect(tensors);
        var result = new List<ScoredBox[]>();
        for (int i = 0; i < batch.Count; i++)
        {
            var b = TensorArrays.Read<float>(dets[i].Boxes);
            var sc = TensorArrays.Read<float>(dets[i].Scores);
            var lb = TensorArrays.Read<long>(dets[i].Labels);
            float inv = 1f / batch[i].Scale, w = batch[i].Width;
            var list = new ScoredBox[sc.Length];
            for (int k = 0; k < sc.Length; k++)
            {
                float x1 = b[4 * k], x2 = b[4 * k + 2];
                if (flip) (x1, x2) = (w - x2, w - x1);
                list[k] = new ScoredBox(new BoxF(x1 * inv, b[4 * k + 1] * inv, x2 * inv, b[4 * k + 3] * inv), (int)lb[k] - _model.FirstClassLabel, sc[k]);
            }
            result.Add(list);
        }
        return result;
    }

    public void Dispose() => _owner.Dispose();
}
