using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace CustomerJourney.MailSink;

/// <summary>One message as the sink received it.</summary>
public sealed record Received(string Key, string To, string Subject, DateTimeOffset At, string? ListUnsubscribe = null, string? ListUnsubscribePost = null);

/// <summary>
/// A loopback SMTP server that keeps every message it accepts and counts distinct Message-IDs: the receiving end of
/// win-back offers in the demo and the tests. It can be told to fail, or to accept a message and then answer with an
/// error (the sender's view of a lost acknowledgement), to show retries and de-duplication.
/// </summary>
public sealed class SmtpSink : IMessageStore, IAsyncDisposable
{
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly string? _directory;
    private SmtpServer.SmtpServer? _server;
    private Task? _running;
    private int _refuse;
    private int _acceptButFail;
    private int _reject;
    private int _attempts;

    public SmtpSink(int port, string? directory = null)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>Every accepted delivery, repeats included.</summary>
    public IReadOnlyList<Received> Received => [.. _received];

    /// <summary>What the recipients actually see: one message per Message-ID.</summary>
    public IReadOnlyList<Received> Distinct => _received.GroupBy(r => r.Key, StringComparer.Ordinal).Select(g => g.First()).ToList();

    /// <summary>Every message offered to the sink, refused or not.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Reject the next <paramref name="count"/> messages for good (550: no such mailbox), keeping nothing.</summary>
    public void RejectPermanently(int count) => Interlocked.Exchange(ref _reject, count);

    /// <summary>Refuse the next <paramref name="count"/> messages with a temporary failure, keeping nothing.</summary>
    public void Refuse(int count) => Interlocked.Exchange(ref _refuse, count);

    /// <summary>Keep the next <paramref name="count"/> messages but answer with an error, as if the acknowledgement were lost.</summary>
    public void AcceptButFail(int count) => Interlocked.Exchange(ref _acceptButFail, count);

    public SmtpSink Start()
    {
        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(this);
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
        return this;
    }

    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        if (Interlocked.Decrement(ref _reject) >= 0)
        {
            return new SmtpResponse((SmtpReplyCode)550, "Sink told to reject: no such mailbox");
        }

        if (Interlocked.Decrement(ref _refuse) >= 0)
        {
            return new SmtpResponse(SmtpReplyCode.ServiceUnavailable, "Sink told to refuse");
        }

        using var stream = new MemoryStream(buffer.ToArray());
        var message = await MimeMessage.LoadAsync(stream, cancellationToken);
        var received = new Received(message.MessageId ?? "", string.Join(",", message.To.Mailboxes.Select(m => m.Address)), message.Subject ?? "", DateTimeOffset.UtcNow,
            message.Headers["List-Unsubscribe"], message.Headers["List-Unsubscribe-Post"]);
        if (_directory is not null && _received.All(r => r.Key != received.Key))
        {
            Directory.CreateDirectory(_directory);
            stream.Position = 0;
            await File.WriteAllBytesAsync(Path.Combine(_directory, FileName(received.Key)), stream.ToArray(), cancellationToken);
        }

        _received.Enqueue(received);
        // 451, a temporary failure: the sender tries again (a 5xx would tell it not to).
        return Interlocked.Decrement(ref _acceptButFail) >= 0
            ? new SmtpResponse((SmtpReplyCode)451, "Sink kept the message but reports a failure")
            : SmtpResponse.Ok;
    }

    private static string FileName(string key) =>
        string.Concat(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_')) + ".eml";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _server?.Shutdown();
        if (_running is not null)
        {
            try
            {
                await _running;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }
}
