using SpineXR.Inference;

namespace SpineXR.Web.Tests;

/// <summary>A real Kestrel server on a free loopback port, with a client pointed at it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public SpineServer Server { get; }
    public HttpClient Client { get; }
    public Uri BaseAddress { get; }

    private TestServer(SpineServer server, Uri baseAddress)
    {
        Server = server;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static async Task<TestServer> StartAsync(ISpinePredictor predictor, SpineServerOptions? options = null)
    {
        options = (options ?? new SpineServerOptions()) with { Urls = "http://127.0.0.1:0", ConsoleLogging = false };
        var server = SpineServer.Create(options, predictor);
        await server.StartAsync();
        return new TestServer(server, new Uri(server.Addresses.Single()));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
