using System.Security.Cryptography;
using System.Text;
using SpineXR.Data;
using SpineXR.Imaging;

namespace SpineXR.Vision.Data;

/// <summary>Binds a VinDr-layout dataset to the classifier: samples loaded through the cached image loader, and the data's identity hash.</summary>
public static class ClassifierData
{
    /// <summary>The loader for classifier inputs: the reference 8-bit conversion stretched to <paramref name="inputSize"/>², cached on disk.</summary>
    public static ImageLoader Loader(DatasetIndex index, int inputSize) =>
        new(new ImageLoadOptions { Size = inputSize, Mode = ResizeMode.Stretch, Bits = 8 }, ImageLoader.DefaultCacheDirectory(index.Root));

    /// <summary>One sample per image; the label is <see cref="DatasetImage.IsAbnormal"/>.</summary>
    public static List<ClassifierSample> Samples(IEnumerable<DatasetImage> images, ImageLoader loader) =>
        images.Select(im => new ClassifierSample(im.ImageId, im.StudyId, im.IsAbnormal, () => loader.Load(im.Path))).ToList();

    /// <summary>SHA-256 over the split's annotation CSV and each image's id, file name and size (contents of the DICOMs are not read).</summary>
    public static string DataHash(DatasetIndex index, string split)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string csv = DatasetIndex.AnnotationPath(index.Root, split);
        if (File.Exists(csv)) sha.AppendData(File.ReadAllBytes(csv));
        foreach (var im in index.Get(split).OrderBy(i => i.ImageId, StringComparer.Ordinal))
        {
            long size = File.Exists(im.Path) ? new FileInfo(im.Path).Length : -1;
            sha.AppendData(Encoding.UTF8.GetBytes($"{im.ImageId}\0{Path.GetFileName(im.Path)}\0{size}\n"));
        }
        return "sha256:" + Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
