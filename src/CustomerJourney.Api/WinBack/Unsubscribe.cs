using System.Security.Cryptography;
using System.Text;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.WinBack;

/// <summary>What an unsubscribe link says: this customer withdraws consent for this purpose, from this campaign's offer.</summary>
public sealed record UnsubscribeRequest(string CustomerId, string Purpose, string CampaignId);

/// <summary>
/// Signs and reads one-click unsubscribe links (RFC 8058). A token is the request in base64url and an HMAC-SHA256 of it
/// under <see cref="UnsubscribeOptions.SigningKey"/>: unguessable without the key, and checked without a lookup. The key
/// lives in configuration (a secret store in production), never in the database, so a copy of the database cannot forge
/// a link. Rotating it invalidates the links in offers already sent.
/// </summary>
public sealed class UnsubscribeLinks
{
    // Public on purpose: it only lets a developer's machine start. Outside Development it is refused.
    public const string DevelopmentKey = "Y2otZGV2ZWxvcG1lbnQtb25seS11bnN1YnNjcmliZS1rZXktMDAwMDAwMDA=";
    private const string Domain = "cj-unsubscribe-v1\n";
    private readonly byte[] _key;
    private readonly Uri _baseUrl;

    public UnsubscribeLinks(IOptions<WinBackOptions> options, IHostEnvironment environment)
    {
        var settings = options.Value.Unsubscribe;
        var development = environment.IsDevelopment();
        var configured = settings.SigningKey;
        if (string.IsNullOrWhiteSpace(configured))
        {
            configured = development ? DevelopmentKey
                : throw new InvalidOperationException("WinBack:Unsubscribe:SigningKey is not set. Set it (base64, at least 32 random bytes) to sign unsubscribe links.");
        }
        else if (configured == DevelopmentKey && !development)
        {
            throw new InvalidOperationException("WinBack:Unsubscribe:SigningKey is the published development key; set a secret one.");
        }

        try
        {
            _key = Convert.FromBase64String(configured);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("WinBack:Unsubscribe:SigningKey must be base64.");
        }

        if (_key.Length < 32)
        {
            throw new InvalidOperationException("WinBack:Unsubscribe:SigningKey must decode to at least 32 bytes.");
        }

        _baseUrl = settings.BaseUrl ?? (development ? new Uri("http://127.0.0.1:5080")
            : throw new InvalidOperationException("WinBack:Unsubscribe:BaseUrl is not set: the public address of this service, for unsubscribe links."));
    }

    public string Token(UnsubscribeRequest request)
    {
        var payload = Encoding.UTF8.GetBytes($"{request.CustomerId}\n{request.Purpose}\n{request.CampaignId}");
        return Base64Url(payload) + "." + Base64Url(Mac(payload));
    }

    public Uri Link(UnsubscribeRequest request) => new(_baseUrl, $"/api/winback/unsubscribe/{Token(request)}");

    /// <summary>The request a token signs, or null when it is malformed or its signature does not match.</summary>
    public UnsubscribeRequest? Read(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 2 || FromBase64Url(parts[0]) is not { } payload || FromBase64Url(parts[1]) is not { } mac ||
            !CryptographicOperations.FixedTimeEquals(mac, Mac(payload)))
        {
            return null;
        }

        var fields = Encoding.UTF8.GetString(payload).Split('\n');
        return fields.Length == 3 ? new UnsubscribeRequest(fields[0], fields[1], fields[2]) : null;
    }

    private byte[] Mac(byte[] payload) => HMACSHA256.HashData(_key, (byte[])[.. Encoding.UTF8.GetBytes(Domain), .. payload]);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        if (text.Length is 0 or > 512)
        {
            return null;
        }

        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>Resolves the unsubscribe links at start-up: outside Development a missing, short or public key stops the service, not every delivery.</summary>
public sealed class UnsubscribeKeyCheck(UnsubscribeLinks links) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(links);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class UnsubscribeEndpoint
{
    /// <summary>
    /// RFC 8058 one-click unsubscribe: a POST (mail clients send "List-Unsubscribe=One-Click") to the link in the offer
    /// records ConsentWithdrawn for the offer channel's purpose. Open to anyone holding a link; the signature is the
    /// credential. A repeat records nothing more. GET is not mapped, so a link scanner fetching the URL changes nothing.
    /// </summary>
    [WolverinePost("/api/winback/unsubscribe/{token}")]
    [AllowAnonymous]
    [AlsoReads("application/x-www-form-urlencoded", "multipart/form-data")]
    public static async Task<IResult> Post(string token, IDocumentStore store, UnsubscribeLinks links, TimeProvider clock, CancellationToken cancellation)
    {
        if (links.Read(token) is not { } request || !Consent.IsMarketing(request.Purpose))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown unsubscribe link", detail: "This unsubscribe link is not valid.");
        }

        await using var session = store.LightweightSession();
        session.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
        await CustomerLocks.TakeAsync(session, [request.CustomerId], cancellation);
        var stream = await session.Events.FetchStreamAsync(request.CustomerId, token: cancellation);
        var sourceId = $"{request.CampaignId}/unsubscribe";
        var touchpoints = stream.Select(e => e.Data).OfType<Touchpoint>().ToList();
        if (stream.Count == 0 || stream.Any(e => e.Data is CustomerErased) ||
            touchpoints.Any(t => t is ConsentWithdrawn w && w.Purpose == request.Purpose && w.SourceId == sourceId))
        {
            return Results.Ok(new { unsubscribed = true, purpose = request.Purpose });
        }

        session.Events.Append(request.CustomerId, stream[^1].Version + 1, new ConsentWithdrawn
        {
            CustomerId = request.CustomerId, OccurredAt = clock.GetUtcNow(), Channel = WinBackRules.ChannelOf(request.Purpose), Source = WinBackRules.Source, SourceId = sourceId,
            Purpose = request.Purpose,
        });
        await session.SaveChangesAsync(cancellation);
        return Results.Ok(new { unsubscribed = true, purpose = request.Purpose });
    }
}
