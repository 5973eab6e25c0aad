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
    public const string ComplaintMetrics = "complaints:metrics";
    public const string ReadWinBack = "winback:read";
    public const string RunWinBack = "winback:run";

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
        [ComplaintMetrics] = [Roles.Supervisor, Roles.Auditor, Roles.Analyst],
        [ReadWinBack] = [Roles.Marketing, Roles.Analyst],
        // Writing to customers is marketing's call alone.
        [RunWinBack] = [Roles.Marketing],
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
    public static string Actor(ClaimsPrincipal user) => user.Identity?.Name is { Length: > 0 } name
        ? (user.IsInRole(Roles.SourceSystem) ? name : $"user:{name}")
        : "anonymous";
}
