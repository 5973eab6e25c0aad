using System.Globalization;
using CustomerJourney.Touchpoints;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace CustomerJourney.WinBack;

/// <summary>One offer on its way to a customer; <see cref="DeliveryKey"/> is the same on every attempt.</summary>
public sealed record OfferMessage(Channel Channel, string Address, string DeliveryKey, string CampaignId, string CustomerId, string OfferCode, WinBackOffer Offer,
    Uri? UnsubscribeLink = null);

/// <summary>The delivery adapter: e-mail over SMTP, app and phone-list offers to a webhook.</summary>
public interface IOfferDelivery
{
    Task DeliverAsync(OfferMessage message, CancellationToken cancellation);
}

/// <summary>
/// Any failure to hand an offer over. A temporary one is retried with back-off (see <see cref="WinBackModule"/>); a
/// <see cref="Permanent"/> one (the receiver refused the message for good) is not.
/// </summary>
public sealed class OfferDeliveryFailedException(string message, bool permanent = false, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>Which refusals are final: trying again would be refused again, or would spam whoever answered.</summary>
public static class DeliveryFailures
{
    /// <summary>SMTP 5xx replies are permanent (RFC 5321 4.2.1); 4xx are transient.</summary>
    public static bool IsPermanentSmtp(int replyCode) => replyCode is >= 500 and < 600;

    /// <summary>HTTP 4xx are the client's fault and final, except 408 (timeout) and 429 (too many requests); 5xx are the server's and retried.</summary>
    public static bool IsPermanentHttp(int status) => status is >= 400 and < 500 and not 408 and not 429;
}

public sealed class OfferDelivery(IOptions<WinBackOptions> options, IHttpClientFactory http) : IOfferDelivery
{
    public const string HttpClientName = "winback-webhook";

    public async Task DeliverAsync(OfferMessage message, CancellationToken cancellation)
    {
        try
        {
            if (message.Channel == Channel.Email)
            {
                await SendMailAsync(message, cancellation);
            }
            else
            {
                await PostWebhookAsync(message, cancellation);
            }
        }
        catch (SmtpCommandException e)
        {
            throw new OfferDeliveryFailedException($"The mail server answered {(int)e.StatusCode} for win-back offer {message.DeliveryKey}: {e.Message}",
                DeliveryFailures.IsPermanentSmtp((int)e.StatusCode), e);
        }
        catch (Exception e) when (e is not OfferDeliveryFailedException && !(e is OperationCanceledException && cancellation.IsCancellationRequested))
        {
            // Connection refused, a timeout, a protocol error: worth another try.
            throw new OfferDeliveryFailedException($"Delivering win-back offer {message.DeliveryKey} on {message.Channel} failed: {e.Message}", inner: e);
        }
    }

    private async Task SendMailAsync(OfferMessage message, CancellationToken cancellation)
    {
        var smtp = options.Value.Smtp;
        using var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(smtp.From));
        mail.To.Add(MailboxAddress.Parse(message.Address));
        // The Message-ID is the idempotency key: a mail system (or the demo's catcher) recognises a repeat by it.
        mail.MessageId = message.DeliveryKey;
        mail.Subject = "We would like to see you again";
        mail.Body = new TextPart("plain") { Text = Describe(message) + (message.UnsubscribeLink is { } link ? $"\n\nNo more offers: {link}" : "") };
        if (message.UnsubscribeLink is { } unsubscribe)
        {
            // RFC 8058 one-click unsubscribe: the mail client POSTs "List-Unsubscribe=One-Click" to the link.
            mail.Headers.Add("List-Unsubscribe", $"<{unsubscribe.AbsoluteUri}>");
            mail.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }

        using var client = new SmtpClient();
        await client.ConnectAsync(smtp.Host, smtp.Port, smtp.UseTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellation);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", cancellation);
        }

        await client.SendAsync(mail, cancellation);
        await client.DisconnectAsync(quit: true, cancellation);
    }

    private async Task PostWebhookAsync(OfferMessage message, CancellationToken cancellation)
    {
        var url = options.Value.Webhook.Url ?? throw new OfferDeliveryFailedException($"No webhook is configured (WinBack:Webhook:Url) for {message.Channel} offers.", permanent: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = JsonContent.Create(new
            {
                message.CampaignId, message.CustomerId, Channel = TouchpointCatalogue.NameOf(message.Channel), message.Address, message.OfferCode,
                message.Offer, Text = Describe(message), UnsubscribeUrl = message.UnsubscribeLink?.AbsoluteUri,
            }),
        };
        request.Headers.Add("Idempotency-Key", message.DeliveryKey);
        using var response = await http.CreateClient(HttpClientName).SendAsync(request, cancellation);
        if (!response.IsSuccessStatusCode)
        {
            throw new OfferDeliveryFailedException($"The webhook answered {(int)response.StatusCode} for win-back offer {message.DeliveryKey}.",
                DeliveryFailures.IsPermanentHttp((int)response.StatusCode));
        }
    }

    public static string Describe(OfferMessage message)
    {
        var offer = message.Offer;
        var what = offer.Kind switch
        {
            OfferKind.DiscountPercent => $"{offer.Value.ToString("0.##", CultureInfo.InvariantCulture)}% off your next order",
            OfferKind.DiscountAmount => $"{offer.Value.ToString("0.00", CultureInfo.InvariantCulture)} {offer.Currency} off your next order",
            OfferKind.GoodwillCredit => $"a credit of {offer.Value.ToString("0.00", CultureInfo.InvariantCulture)} {offer.Currency}",
            _ => "free shipping on your next order",
        };
        return $"We miss you. Here is {what}: use code {message.OfferCode} within {offer.ValidDays} days.";
    }
}
