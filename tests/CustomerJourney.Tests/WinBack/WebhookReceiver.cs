using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CustomerJourney.Tests.WinBack;

/// <summary>A webhook on loopback that answers what it is told to (503 to refuse) and keeps the Idempotency-Key of every post it accepted.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<string> _accepted = new();
    private readonly Task _loop;
    private int _attempts;
    private volatile int _status = 200;

    public WebhookReceiver()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Url = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/offers/");
        }

        _listener.Prefixes.Add(Url.AbsoluteUri);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    /// <summary>The status every post is answered with from now on.</summary>
    public int Status { set => _status = value; }

    public int Attempts => Volatile.Read(ref _attempts);

    public IReadOnlyList<string> Accepted => [.. _accepted];

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref _attempts);
            var status = _status;
            if (status is >= 200 and < 300)
            {
                _accepted.Enqueue(context.Request.Headers["Idempotency-Key"] ?? "");
            }

            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
