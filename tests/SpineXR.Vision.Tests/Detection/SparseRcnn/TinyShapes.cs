using SpineXR.Vision.Detection;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection.SparseRcnn;

/// <summary>A seeded toy detection set: noisy dark images with bright (class 0) and dim (class 1) filled rectangles.</summary>
internal static class TinyShapes
{
    public static (Tensor[] Images, DetectionTarget[] Targets) Make(int count, int size, int seed)
    {
        var rng = new Random(seed);
        var images = new Tensor[count];
        var targets = new DetectionTarget[count];
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[3 * size * size];
            for (int k = 0; k < size * size; k++)
                pixels[k] = 0.1f + 0.05f * (float)rng.NextDouble();
            int nBoxes = 1 + rng.Next(2);
            var boxes = new List<float>();
            var labels = new List<long>();
            for (int b = 0; b < nBoxes; b++)
            {
                int w = rng.Next(size / 5, size / 2), h = rng.Next(size / 5, size / 2);
                // Left and right halves keep the two boxes of an image apart.
                int x0 = (b == 0 ? 0 : size / 2) + rng.Next(0, size / 2 - w + 1);
                int y0 = rng.Next(0, size - h);
                int cls = rng.Next(2);
                float v = cls == 0 ? 0.95f : 0.55f;
                for (int y = y0; y < y0 + h; y++)
                    for (int x = x0; x < x0 + w; x++)
                        pixels[y * size + x] = v;
                boxes.AddRange([x0, y0, x0 + w, y0 + h]);
                labels.Add(cls);
            }
            // Grey: the same plane in all three channels.
            Array.Copy(pixels, 0, pixels, size * size, size * size);
            Array.Copy(pixels, 0, pixels, 2 * size * size, size * size);
            images[i] = tensor(pixels).reshape(3, size, size);
            targets[i] = new DetectionTarget(tensor(boxes.ToArray()).reshape(-1, 4), tensor(labels.ToArray()));
        }
        return (images, targets);
    }
}
