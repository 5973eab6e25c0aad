using System.Globalization;
using System.Text.Json.Nodes;

namespace Load;

/// <summary>One touchpoint as the batch endpoint takes it, pre-serialised, with the customer it belongs to.</summary>
public sealed record Item(string CustomerId, string Json);

/// <summary>
/// The workload's data: every purchase of the full CDNOW cohort (23,570 customers, 69,659 purchases), then seeded,
/// generated non-purchase touchpoints spread over CDNOW and further customers until the target count.
/// </summary>
public static class Dataset
{
    public const string Source = "bench-shop";

    public static List<Item> Build(string masterFile, int events, int customers, int seed, string idPrefix = "")
    {
        var items = new List<Item>(events);
        var cdnowCustomers = new List<string>();
        foreach (var line in File.ReadLines(masterFile).Skip(1))
        {
            var c = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (c.Length != 4)
            {
                continue;
            }

            var customer = $"cdnow-m{c[0]}";
            if (cdnowCustomers.Count == 0 || cdnowCustomers[^1] != customer)
            {
                cdnowCustomers.Add(customer);
            }

            var at = DateTime.ParseExact(c[1], "yyyyMMdd", CultureInfo.InvariantCulture).AddHours(12);
            var amount = decimal.Parse(c[3], CultureInfo.InvariantCulture);
            var n = items.Count;
            items.Add(Make(customer, "purchase", at, $"{idPrefix}p-{n}", new JsonObject
            {
                ["orderId"] = $"{idPrefix}o-{n}", ["amount"] = amount, ["currency"] = "USD",
                ["items"] = new JsonArray(new JsonObject { ["sku"] = "cd", ["quantity"] = int.Parse(c[2], CultureInfo.InvariantCulture), ["unitPrice"] = Math.Round(amount / int.Parse(c[2], CultureInfo.InvariantCulture), 2) }),
            }));
            if (items.Count >= events)
            {
                return items;
            }
        }

        var random = new Random(seed);
        var all = cdnowCustomers.Concat(Enumerable.Range(1, Math.Max(0, customers - cdnowCustomers.Count)).Select(i => $"gen-{i:000000}")).ToList();
        var start = new DateTime(1997, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var n = items.Count; n < events; n++)
        {
            // Every customer gets one touchpoint before any gets a second, so the count of customers is reached.
            var customer = n - 69_659 < all.Count && n >= 69_659 ? all[n - 69_659] : all[random.Next(all.Count)];
            var at = start.AddMinutes(random.Next(0, 545 * 24 * 60));
            var id = $"{idPrefix}g-{n}";
            items.Add(random.Next(0, 4) switch
            {
                0 => Make(customer, "survey-answered", at, id, new JsonObject { ["csat"] = random.Next(1, 6), ["nps"] = random.Next(0, 11) }),
                1 => Make(customer, "support-contact", at, id, new JsonObject { ["topic"] = "delivery", ["resolvedOnFirstContact"] = random.Next(0, 2) == 1 }),
                2 => Make(customer, "loyalty-points-earned", at, id, new JsonObject { ["points"] = random.Next(1, 500), ["reason"] = "purchase" }),
                _ => Make(customer, "consent-given", at, id, new JsonObject { ["purpose"] = "marketing-email" }),
            });
        }

        return items;
    }

    public static Item Make(string customer, string kind, DateTime at, string sourceId, JsonObject data) =>
        new(customer, new JsonObject
        {
            ["kind"] = kind,
            ["customerId"] = customer,
            ["occurredAt"] = at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["channel"] = "web",
            ["source"] = Source,
            ["sourceId"] = sourceId,
            ["data"] = data,
        }.ToJsonString());
}
