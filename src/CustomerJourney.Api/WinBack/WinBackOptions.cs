namespace CustomerJourney.WinBack;

/// <summary>Configuration section "WinBack".</summary>
public sealed class WinBackOptions
{
    /// <summary>Share of the value at risk a win-back offer is expected to recover: ranks the candidates.</summary>
    public double ResponseRate { get; set; } = 0.10;

    /// <summary>At most one win-back offer per customer within this span.</summary>
    public TimeSpan FrequencyCap { get; set; } = TimeSpan.FromDays(30);

    public double DefaultControlShare { get; set; } = 0.10;

    /// <summary>What one free shipping costs us, for the campaign's cost.</summary>
    public decimal ShippingCost { get; set; } = 5m;

    public SmtpOptions Smtp { get; set; } = new();

    public WebhookOptions Webhook { get; set; } = new();
}

/// <summary>Where e-mail offers go. The demo points this at the local mail catcher the run script starts.</summary>
public sealed class SmtpOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 2525;
    public string From { get; set; } = "offers@customerjourney.example";
    public string? UserName { get; set; }
    public string? Password { get; set; }
    public bool UseTls { get; set; }

    /// <summary>
    /// Only for demos and tests: an address made from the customer id (e.g. "{customerId}@demo.invalid") for customers
    /// who never gave one. Empty in production: a customer without an e-mail address is not written to.
    /// </summary>
    public string? FallbackAddressTemplate { get; set; }
}

/// <summary>Where app and phone-list offers go: a webhook that de-duplicates on the Idempotency-Key header.</summary>
public sealed class WebhookOptions
{
    public Uri? Url { get; set; }
}
