using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.TrackingApi;

namespace Load;

/// <summary>One request body, ready to send: how many calls it holds and its bytes as they go on the wire.</summary>
public sealed record Body(int Calls, byte[] Bytes);

/// <summary>The same calls three ways: Segment's /v1/batch as JSON, the same gzipped, and the native batch of their touchpoints.</summary>
public sealed record TrackingSet(string Name, string Path, string ContentType, bool Gzip, IReadOnlyList<Body> Bodies)
{
    public int Calls => Bodies.Sum(b => b.Calls);

    public double MeanBytes => Bodies.Average(b => b.Bytes.Length);
}

/// <summary>
/// The Segment workload's data: calls as Segment's Node SDK (@segment/analytics-node 3.1.0) sends them, each with the
/// fields the SDK adds (messageId, timestamp, integrations, _metadata, context.library), in a shop's mix (page views,
/// identifies, `Product Viewed`, `Order Completed` with products, refunds, NPS answers, loyalty points, support contacts,
/// consent, and a few names we do not map), filed under user ids of which one in five is an e-mail address (so
/// pseudonymised). Batches are cut as that SDK cuts them, at 480 KiB (Segment's limit is 500 KB). The native endpoint gets
/// the very touchpoints /v1 makes of the same calls (read by the service's own SegmentCalls), batch for batch.
/// </summary>
public static class SegmentDataset
{
    /// <summary>@segment/analytics-node's MAX_BATCH_SIZE_IN_KB.</summary>
    public const int BatchBytes = 480 * 1024;

    private static readonly string[] Pages = ["Home", "Category", "Product", "Cart", "Checkout", "Search", "Account"];
    private static readonly string[] Categories = ["Jazz", "Rock", "Classical", "Pop", "Soundtracks"];
    private static readonly string[] Agents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    ];

    /// <summary>
    /// <paramref name="count"/> calls over <paramref name="customers"/> customers. The same seed gives the same calls; the
    /// prefix makes user ids and message ids of their own, so each set is new to the store.
    /// </summary>
    public static List<JsonObject> Calls(int count, int customers, int seed, string prefix)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var calls = new List<JsonObject>(count);
        for (var n = 0; n < count; n++)
        {
            var customer = random.Next(customers);
            var user = customer % 5 == 0 ? $"{prefix}.shopper{customer}@example.com" : $"{prefix}-u{customer:000000}";
            var at = start.AddSeconds(random.Next(0, 365 * 24 * 3600));
            var guid = new byte[16];
            random.NextBytes(guid);
            var context = new JsonObject { ["library"] = new JsonObject { ["name"] = "@segment/analytics-node", ["version"] = "3.1.0" } };
            var call = new JsonObject
            {
                ["userId"] = user,
                ["messageId"] = $"node-next-{at.ToUnixTimeMilliseconds()}-{prefix}-{new Guid(guid)}",
                ["timestamp"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["integrations"] = new JsonObject(),
                ["_metadata"] = new JsonObject { ["jsRuntime"] = "node" },
            };
            var order = $"{prefix}-o{random.Next(count)}";
            var roll = random.Next(100);
            if (roll < 28)
            {
                var page = Pages[random.Next(Pages.Length)];
                var path = "/" + page.ToLowerInvariant();
                call["type"] = "page";
                call["name"] = page;
                call["properties"] = new JsonObject { ["path"] = path, ["url"] = $"https://shop.example{path}", ["title"] = $"{page} | Shop", ["referrer"] = "https://www.example.org/" };
                context["ip"] = $"203.0.113.{random.Next(1, 255)}";
                context["userAgent"] = Agents[random.Next(Agents.Length)];
                context["page"] = new JsonObject { ["path"] = path, ["url"] = $"https://shop.example{path}" };
            }
            else if (roll < 36)
            {
                call["type"] = "identify";
                call["traits"] = new JsonObject
                {
                    ["email"] = $"shopper{customer}@example.com", ["first_name"] = "Sam", ["plan"] = random.Next(3) == 0 ? "gold" : "basic",
                    ["created_at"] = start.AddDays(-random.Next(1, 900)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                };
            }
            else
            {
                call["type"] = "track";
                (call["event"], call["properties"]) = roll switch
                {
                    < 52 => ("Product Viewed", Product(random, withQuantity: false)),
                    < 54 => ("Checkout Started", new JsonObject { ["order_id"] = order, ["value"] = Money(random, 500, 9000), ["currency"] = "EUR" }),
                    < 72 => ("Order Completed", OrderCompleted(random, order)),
                    < 74 => ("Order Refunded", new JsonObject { ["order_id"] = order, ["total"] = Money(random, 500, 9000), ["currency"] = "EUR" }),
                    < 80 => ("NPS Survey Answered", new JsonObject { ["nps"] = random.Next(0, 11), ["comment"] = "Fast delivery" }),
                    < 88 => ("Loyalty Points Earned", new JsonObject { ["points"] = random.Next(1, 500), ["reason"] = "purchase" }),
                    < 93 => ("Support Contact Made", new JsonObject { ["topic"] = "delivery", ["resolvedOnFirstContact"] = random.Next(2) == 1 }),
                    < 97 => ("Consent Given", new JsonObject { ["purpose"] = "marketing-email" }),
                    _ => ("Order Cancelled", new JsonObject { ["order_id"] = order, ["reason"] = "changed mind" }),
                };
            }

            call["context"] = context;
            calls.Add(call);
        }

        return calls;
    }

    /// <summary>Calls in batches as the SDK cuts them: a batch leaves before the next call would take it over 480 KiB.</summary>
    public static List<List<JsonObject>> Batches(IEnumerable<JsonObject> calls)
    {
        var batches = new List<List<JsonObject>> { new() };
        var size = 0;
        foreach (var call in calls)
        {
            var bytes = Encoding.UTF8.GetByteCount(call.ToJsonString()) + 1;
            if (size + bytes > BatchBytes && batches[^1].Count > 0)
            {
                batches.Add([]);
                size = 0;
            }

            batches[^1].Add(call);
            size += bytes;
        }

        return batches;
    }

    /// <summary>A /v1/batch body as the SDK posts it: `{"batch": [...], "sentAt": ...}`, gzipped as RudderStack's SDK does by default.</summary>
    public static Body V1Body(List<JsonObject> batch, DateTimeOffset sentAt, bool gzip)
    {
        var json = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["batch"] = new JsonArray(batch.Select(c => (JsonNode)c.DeepClone()).ToArray()),
            ["sentAt"] = sentAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        }.ToJsonString());
        if (!gzip)
        {
            return new Body(batch.Count, json);
        }

        using var compressed = new MemoryStream();
        using (var zip = new GZipStream(compressed, CompressionLevel.Optimal))
        {
            zip.Write(json);
        }

        return new Body(batch.Count, compressed.ToArray());
    }

    /// <summary>The native batch of the touchpoints /v1 makes of these calls, read by the service's own translation.</summary>
    public static Body NativeBody(List<JsonObject> batch, DateTimeOffset sentAt, DateTimeOffset receivedAt, Pseudonyms pseudonyms, TrackingOptions options)
    {
        var touchpoints = batch.Select(call =>
        {
            var translated = SegmentCalls.Translate(JsonSerializer.SerializeToElement(call), null, new BatchDefaults(null, sentAt), Dataset.Source, receivedAt, pseudonyms, options);
            return translated.Touchpoint?.ToJsonString() ?? throw new InvalidOperationException($"not a touchpoint ({string.Join("; ", translated.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}): {call.ToJsonString()}");
        });
        return new Body(batch.Count, Encoding.UTF8.GetBytes("[" + string.Join(",", touchpoints) + "]"));
    }

    private static JsonObject OrderCompleted(Random random, string orderId)
    {
        var products = new JsonArray();
        var cents = 0;
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            var product = Product(random, withQuantity: true);
            cents += (int)Math.Round(product["price"]!.GetValue<decimal>() * 100) * product["quantity"]!.GetValue<int>();
            products.Add(product);
        }

        var shipping = random.Next(2) == 0 ? 0m : 4.95m;
        var order = new JsonObject
        {
            ["order_id"] = orderId, ["affiliation"] = "Web shop", ["total"] = (cents / 100m) + shipping, ["revenue"] = cents / 100m, ["shipping"] = shipping,
            ["tax"] = Math.Round(cents / 100m * 0.19m / 1.19m, 2), ["discount"] = 0, ["currency"] = "EUR", ["products"] = products,
        };
        if (random.Next(4) == 0)
        {
            order["coupon"] = "SPRING";
        }

        return order;
    }

    private static JsonObject Product(Random random, bool withQuantity)
    {
        var id = random.Next(1, 5000);
        var product = new JsonObject
        {
            ["product_id"] = $"cd-{id}", ["sku"] = $"CD-{id:00000}", ["category"] = Categories[id % Categories.Length], ["name"] = $"Album {id}",
            ["brand"] = "CDNOW", ["price"] = Money(random, 499, 2999),
        };
        if (withQuantity)
        {
            product["quantity"] = random.Next(1, 4);
        }
        else
        {
            product["currency"] = "EUR";
        }

        return product;
    }

    private static decimal Money(Random random, int minCents, int maxCents) => random.Next(minCents, maxCents) / 100m;
}

/// <summary>
/// Posts each set's bodies in alternating rounds (each round a quarter of every set, in a rotating order), so that the
/// endpoints share the machine's conditions: the other processes on it, the async daemon catching up, the store's size.
/// </summary>
public static class TrackingWorkload
{
    public sealed record Measured(TrackingSet Set, IngestResult Result, double ServiceCpuSeconds)
    {
        /// <summary>The service's own CPU per 1,000 calls: less disturbed by other processes than the wall-clock rate.</summary>
        public double ServiceCpuMsPerThousand => Math.Round(ServiceCpuSeconds * 1_000_000 / Result.Events, 1);
    }

    public static async Task<List<Measured>> RunAsync(Service service, IReadOnlyList<TrackingSet> sets, int clients, int rounds = 4)
    {
        var totals = sets.Select(s => new Measured(s, new IngestResult(0, 0, 0, 0), 0)).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < sets.Count; k++)
            {
                var at = (round + k) % sets.Count;
                var share = sets[at].Bodies.Where((_, i) => i % rounds == round).ToList();
                var cpu = service.CpuSeconds();
                var result = await Workloads.PostBodiesAsync(service, sets[at], share, clients);
                var (sum, used) = (totals[at].Result, service.CpuSeconds() - cpu);
                totals[at] = totals[at] with
                {
                    Result = new IngestResult(sum.Events + result.Events, sum.Appended + result.Appended, sum.Duplicates + result.Duplicates, sum.Seconds + result.Seconds),
                    ServiceCpuSeconds = totals[at].ServiceCpuSeconds + used,
                };
            }
        }

        return [.. totals];
    }
}
