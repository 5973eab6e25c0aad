using System.Security.Claims;

namespace CustomerJourney.Access;

/// <summary>Who may do what. People carry roles in their bearer token; source systems authenticate with an API key.</summary>
public static class Roles
{
    public const string Analyst = "analyst";
    public const string Marketing = "marketing";
    public const string Agent = "agent";
    public const string Supervisor = "supervisor";
    public const string Auditor = "auditor";
    public const string Admin = "admin";

    /// <summary>Given to an API key's principal; never found in a person's token.</summary>
    public const string SourceSystem = "source-system";

    public static readonly IReadOnlyList<string> People = [Analyst, Marketing, Agent, Supervisor, Auditor, Admin];

    /// <summary>Roles that see customers' personal data (free text, contact details) in answers.</summary>
    public static readonly IReadOnlyList<string> PersonalDataReaders = [Agent, Supervisor, Auditor];

    public static bool MayReadPersonalData(ClaimsPrincipal user) => PersonalDataReaders.Any(user.IsInRole);
}

/// <summary>The named policies endpoints declare. An endpoint that declares none is denied by the fallback policy.</summary>
public static class Policies
{
    public const string WriteTouchpoints = "touchpoints:write";
    public const string ReadCustomers = "customers:read";
    public const string ReadConsent = "consent:read";
    public const string Administer = "access:admin";
    public const string FitChurnModels = "churn:fit";
    public const string ReadChurn = "churn:read";
    public const string WriteComplaints = "complaints:write";
    public const string ReadComplaints = "complaints:read";
    public const string ListComplaints = "complaints:list";
    public const string AuditComplaints = "complaints:audit";
    public const string SignChainHeads = "complaints:sign";
    public const string ComplaintMetrics = "complaints:metrics";
    public const string ReadWinBack = "winback:read";
    public const string RunWinBack = "winback:run";
    public const string WriteTracking = "tracking:write";
    public const string LinkProfiles = "profiles:link";

    public static readonly IReadOnlyDictionary<string, string[]> RolesOf = new Dictionary<string, string[]>
    {
        [WriteTouchpoints] = [Roles.SourceSystem, Roles.Agent, Roles.Supervisor],
        [ReadCustomers] = [Roles.Analyst, Roles.Marketing, Roles.Agent, Roles.Supervisor, Roles.Auditor],
        [ReadConsent] = [Roles.Analyst, Roles.Marketing, Roles.Agent, Roles.Supervisor],
        [Administer] = [Roles.Admin],
        // Fitting writes a model, never a customer's facts.
        [FitChurnModels] = [Roles.Analyst],
        [ReadChurn] = [Roles.Analyst, Roles.Marketing],
        [WriteComplaints] = [Roles.SourceSystem, Roles.Agent, Roles.Supervisor],
        [ReadComplaints] = [Roles.Agent, Roles.Supervisor, Roles.Auditor],
        // The case list across customers is a supervisor's tool, and an auditor's.
        [ListComplaints] = [Roles.Supervisor, Roles.Auditor],
        [AuditComplaints] = [Roles.Auditor, Roles.Supervisor],
        // Signing writes a head, and auditors never write; the service also signs on a schedule.
        [SignChainHeads] = [Roles.Admin],
        [ComplaintMetrics] = [Roles.Supervisor, Roles.Auditor, Roles.Analyst],
        [ReadWinBack] = [Roles.Marketing, Roles.Analyst],
        // Writing to customers is marketing's call alone.
        [RunWinBack] = [Roles.Marketing],
        // The Segment tracking API (/v1/*): its write keys are API keys, each bound to one source.
        [WriteTracking] = [Roles.SourceSystem],
        // Merging or splitting profiles by hand changes whose facts count as one person's: a supervisor's or an analyst's call.
        [LinkProfiles] = [Roles.Supervisor, Roles.Analyst],
    };
}

/// <summary>Claims this service reads.</summary>
public static class AccessClaims
{
    public const string Name = "name";
    public const string Role = "role";

    /// <summary>On an API key's principal: the source system the key belongs to.</summary>
    public const string Source = "source";

    /// <summary>Optional on an agent's token: the one channel the agent may post touchpoints for.</summary>
    public const string Channel = "channel";

    /// <summary>Who caused an event, as recorded in Marten's user_name metadata: "user:alice" or "key:&lt;id&gt;".</summary>
    public static string Actor(ClaimsPrincipal user) => SourceSystemIdentity(user) is { Name: { Length: > 0 } key }
        ? key
        : user.Identity?.Name is { Length: > 0 } name ? $"user:{name}" : "anonymous";

    /// <summary>The source system the caller's API key belongs to; null for anyone else.</summary>
    public static string? SourceOf(ClaimsPrincipal user) => SourceSystemIdentity(user)?.FindFirst(Source)?.Value;

    public static bool IsSourceSystem(ClaimsPrincipal user) => SourceSystemIdentity(user) is not null;

    /// <summary>
    /// Only an identity the API-key handler made speaks for a source system. The bearer handler refuses tokens
    /// that claim to be one; this is the second line, so a claim from anywhere else is never trusted as a source.
    /// </summary>
    private static ClaimsIdentity? SourceSystemIdentity(ClaimsPrincipal user) => user.Identities.FirstOrDefault(i =>
        i is { IsAuthenticated: true, AuthenticationType: ApiKeyAuthenticationHandler.SchemeName } && i.HasClaim(Role, Roles.SourceSystem));

    /// <summary>Why a bearer token may not be accepted, or null: it must not pass itself off as a source system's key.</summary>
    public static string? BearerRefusal(ClaimsPrincipal token)
    {
        var claims = token.Claims.ToList();
        if (claims.Any(c => c.Type == Role && string.Equals(c.Value, Roles.SourceSystem, StringComparison.OrdinalIgnoreCase)))
        {
            return $"A bearer token may not carry the role '{Roles.SourceSystem}'; source systems authenticate with an API key.";
        }

        if (claims.Any(c => c.Type == Source))
        {
            return "A bearer token may not carry a 'source' claim; source systems authenticate with an API key.";
        }

        return claims.Any(c => c.Type == Name && c.Value.StartsWith("key:", StringComparison.OrdinalIgnoreCase))
            ? "A bearer token's name may not start with 'key:', which names API keys."
            : null;
    }
}
