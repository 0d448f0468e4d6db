using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SpineXR.Web.Tests;

/// <summary>
/// Clients from other loopback addresses (127.0.0.0/8 all reach the server on Linux), so one test machine can play
/// several callers, and raw sockets that send a request as slowly as a test wants.
/// </summary>
public static class LoopbackClients
{
    /// <summary>An HttpClient whose connections come from <paramref name="local"/> (e.g. 127.0.0.7).</summary>
    public static HttpClient From(string local, Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (ctx, ct) =>
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(IPAddress.Parse(local), 0));
                await s.ConnectAsync(ctx.DnsEndPoint, ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>A connected socket from <paramref name="local"/> that has sent the request line and headers of a POST.</summary>
    public static async Task<Socket> StartPostAsync(string local, Uri server, string contentType, long contentLength)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Parse(local), 0));
        await s.ConnectAsync(IPAddress.Parse(server.Host), server.Port);
        string head = $"POST /api/v1/predict HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength}\r\n\r\n";
        await s.SendAsync(Encoding.ASCII.GetBytes(head));
        return s;
    }

    /// <summary>Whatever the server sent until it closed or <paramref name="timeout"/> passed ("" when nothing).</summary>
    public static async Task<string> ReadAnswerAsync(Socket s, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buf = new byte[4096];
        var sb = new StringBuilder();
        try
        {
            while (true)
            {
                int n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token);
                if (n == 0) break;
                sb.Append(Encoding.ASCII.GetString(buf, 0, n));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { } // reset by the server
        return sb.ToString();
    }
}
