namespace CustomerJourney.Tests.Support;

public static class Ids
{
    /// <summary>A customer id no other test uses.</summary>
    public static string Customer(string prefix = "cust") => $"{prefix}-{Guid.CreateVersion7():N}";

    public static string Unique(string prefix = "id") => $"{prefix}-{Guid.CreateVersion7():N}";
}
