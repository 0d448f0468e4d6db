namespace SpineXR.Synthesis;

/// <summary>Options of the synthetic dataset generator (<c>spinexr data synth</c>); defaults give a small, balanced dataset.</summary>
public sealed record SynthOptions
{
    /// <summary>Number of studies (patients); each has one to three views. Default 100.</summary>
    public int Studies { get; init; } = 100;

    /// <summary>Seed of everything: same seed and options, same bytes. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Fraction of studies in the test split (the rest is train), chosen by a seeded hash of the study. Default 0.2.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Probability that an image draws random lesions. Default 0.4; with the per-study implants and the class-cycling studies about half the images end abnormal, as in VinDr-SpineXR.</summary>
    public double AbnormalFraction { get; init; } = 0.4;

    /// <summary>Probability that a study shows the cervical rather than the lumbar spine. Default 0.35.</summary>
    public double CervicalFraction { get; init; } = 0.35;

    /// <summary>Probability that a study carries a spinal implant (drawn on all its views). Default 0.07.</summary>
    public double ImplantFraction { get; init; } = 0.07;

    /// <summary>Fraction of images written uncompressed (explicit VR little endian); the rest JPEG 2000 lossless. Default 0.15.</summary>
    public double UncompressedFraction { get; init; } = 0.15;

    /// <summary>Fraction of images stored MONOCHROME1 (inverted). Default 0.25.</summary>
    public double Monochrome1Fraction { get; init; } = 0.25;

    /// <summary>Scale of image sizes: 1 gives a long side of about 1000-1200 pixels (the real data: about 2500). Default 1.</summary>
    public float SizeScale { get; init; } = 1f;

    /// <summary>Parallel workers; 0 = processor count.</summary>
    public int Workers { get; init; }

    public SynthOptions Validate()
    {
        if (Studies is < 1 or > 1_000_000) throw new ArgumentException("must be 1 to 1,000,000", nameof(Studies));
        foreach (var (v, name) in new[] { (TestFraction, nameof(TestFraction)), (AbnormalFraction, nameof(AbnormalFraction)), (CervicalFraction, nameof(CervicalFraction)),
                     (ImplantFraction, nameof(ImplantFraction)), (UncompressedFraction, nameof(UncompressedFraction)), (Monochrome1Fraction, nameof(Monochrome1Fraction)) })
            if (!(v >= 0 && v <= 1)) throw new ArgumentException("must be in [0, 1]", name);
        if (!(SizeScale >= 0.25f && SizeScale <= 4f)) throw new ArgumentException("must be in [0.25, 4]", nameof(SizeScale));
        if (Workers < 0) throw new ArgumentException("must be >= 0", nameof(Workers));
        return this;
    }
}
