using Microsoft.Playwright;

namespace SpineXR.Web.Tests;

/// <summary>
/// Debian's Chromium (installed by scripts/setup.sh --test) under Playwright, with the flags this offline machine
/// needs (no background networking, no sandbox as root). Playwright never downloads a browser here.
/// </summary>
internal static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>
    /// Playwright's driver, started without the tcmalloc preload scripts/test.sh gives the test host:
    /// Node and Chromium bring their own allocators.
    /// </summary>
    public static Task<IPlaywright> StartAsync()
    {
        Environment.SetEnvironmentVariable("LD_PRELOAD", null);
        return Playwright.CreateAsync();
    }

    public static Task<IBrowser> LaunchAsync(IPlaywright pw)
    {
        Assert.True(File.Exists(Path), $"{Path} missing: run scripts/setup.sh --test (installs Debian's chromium)");
        return pw.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Path,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
            Timeout = 60_000,
        });
    }
}
