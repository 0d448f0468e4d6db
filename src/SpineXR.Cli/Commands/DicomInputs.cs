namespace SpineXR.Cli.Commands;

/// <summary>Expands DICOM inputs: files as given, folders recursively (files named *.dcm, *.dicom, *.dic or with no extension).</summary>
internal static class DicomInputs
{
    public static List<string> Expand(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                    .Where(LooksLikeDicomName).Order(StringComparer.Ordinal);
                files.AddRange(found);
            }
            else if (File.Exists(input)) files.Add(input);
            else throw new UsageException($"no such file or folder: {input}");
        }
        return files;
    }

    private static bool LooksLikeDicomName(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext is ".dcm" or ".dicom" or ".dic" || (ext.Length == 0 && !Path.GetFileName(path).StartsWith('.'));
    }
}
