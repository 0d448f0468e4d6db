using System.Text;

namespace SpineXR.Dicom;

/// <summary>
/// Maps Specific Character Set (0008,0005) to a .NET encoding: the default repertoire, ISO_IR 100 (Latin-1),
/// ISO_IR 192 (UTF-8), GB18030/GBK and the single-byte ISO 8859 parts. Code extension escapes (ISO 2022) are
/// not interpreted; those bytes decode with the first value's encoding.
/// </summary>
public static class CharacterSets
{
    static CharacterSets() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Latin-1 reads the default repertoire (ASCII) and never fails on stray high bytes.</summary>
    public static Encoding Default => Encoding.Latin1;

    /// <summary>The encoding for the (first) defined term; <see cref="Default"/> for empty or unknown terms.</summary>
    public static Encoding FromTerm(string? term)
    {
        string t = (term ?? "").Trim().ToUpperInvariant();
        return t switch
        {
            "" or "ISO_IR 6" or "ISO 2022 IR 6" or "ISO_IR 100" or "ISO 2022 IR 100" => Encoding.Latin1,
            "ISO_IR 192" => Encoding.UTF8,
            "GB18030" => Get(54936),
            "GBK" => Get(936),
            "ISO_IR 101" or "ISO 2022 IR 101" => Get(28592),
            "ISO_IR 109" or "ISO 2022 IR 109" => Get(28593),
            "ISO_IR 110" or "ISO 2022 IR 110" => Get(28594),
            "ISO_IR 144" or "ISO 2022 IR 144" => Get(28595),
            "ISO_IR 127" or "ISO 2022 IR 127" => Get(28596),
            "ISO_IR 126" or "ISO 2022 IR 126" => Get(28597),
            "ISO_IR 138" or "ISO 2022 IR 138" => Get(28598),
            "ISO_IR 148" or "ISO 2022 IR 148" => Get(28599),
            "ISO_IR 203" or "ISO 2022 IR 203" => Get(28605),
            "ISO_IR 166" or "ISO 2022 IR 166" => Get(874),
            "ISO_IR 13" or "ISO 2022 IR 13" => Get(932),
            _ => Encoding.Latin1,
        };
    }

    private static Encoding Get(int codePage)
    {
        try { return Encoding.GetEncoding(codePage); }
        catch (Exception e) when (e is NotSupportedException or ArgumentException) { return Encoding.Latin1; }
    }
}
