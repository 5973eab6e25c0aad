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

    public DeliveryOptions Delivery { get; set; } = new();

    public UnsubscribeOptions Unsubscribe { get; set; } = new();
}

/// <summary>
/// How often and how long a delivery is tried ("WinBack:Delivery"). A temporary failure is retried in process after each
/// <see cref="Cooldowns"/> entry, then after each <see cref="Schedule"/> entry from Wolverine's durable store (a restart
/// loses none); after the last, the offer is recorded undeliverable and its message dead-lettered. A permanent failure
/// is not retried. The tests compress the schedule to seconds.
/// </summary>
public sealed class DeliveryOptions
{
    public static readonly IReadOnlyList<TimeSpan> DefaultCooldowns = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    public static readonly IReadOnlyList<TimeSpan> DefaultSchedule =
        [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30)];

    // Null until configured: the configuration binder appends to a list that already holds defaults.
    public TimeSpan[]? Cooldowns { get; set; }

    public TimeSpan[]? Schedule { get; set; }

    /// <summary>
    /// The longest one attempt may take. An attempt holds the customer's lock, so a consent withdrawal recorded meanwhile
    /// waits for it at most this long (below the 30 s request timeout).
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public IReadOnlyList<TimeSpan> EffectiveCooldowns => Cooldowns ?? DefaultCooldowns;

    public IReadOnlyList<TimeSpan> EffectiveSchedule => Schedule ?? DefaultSchedule;

    /// <summary>The first attempt and every retry.</summary>
    public int MaxAttempts => 1 + EffectiveCooldowns.Count + EffectiveSchedule.Count;
}

/// <summary>The one-click unsubscribe link every offer carries ("WinBack:Unsubscribe").</summary>
public sealed class UnsubscribeOptions
{
    /// <summary>Where customers reach this service from outside, e.g. https://journey.example.com; the link is {BaseUrl}/api/winback/unsubscribe/{token}.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>HMAC-SHA256 key (base64, at least 32 bytes) that signs the links; never stored in the database. Required outside Development.</summary>
    public string? SigningKey { get; set; }
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
