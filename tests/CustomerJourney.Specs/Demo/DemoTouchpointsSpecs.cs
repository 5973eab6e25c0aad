using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Complaints;
using CustomerJourney.Demo;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Demo;

public sealed class DemoTouchpointsSpecs
{
    private static readonly List<CdnowPurchase> Rows = [.. CdnowPurchaseLog.Read(DemoSample.File())];

    private static readonly List<Touchpoint> Demo = DemoTouchpoints.Build(Rows, (_, text) => text);

    private static readonly JsonSerializerOptions Json = CreateJson();

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        CritterStackSetup.ConfigureJson(options);
        return options;
    }

    [Fact]
    public void The_sample_holds_the_published_figures()
    {
        Assert.Equal(6_919, Rows.Count);
        Assert.Equal(2_357, Rows.Select(r => r.SampleId).Distinct().Count());
        Assert.Equal(244_091.94m, Rows.Sum(r => r.DollarValue));
        Assert.Equal(16_479, Rows.Sum(r => r.NumberOfCds));
    }

    [Fact]
    public void Purchases_are_exactly_the_published_rows_and_the_generated_layer_adds_none()
    {
        var purchases = Demo.OfType<PurchaseMade>().ToList();

        Assert.Equal(Rows.Count, purchases.Count);
        Assert.All(purchases, p => Assert.Equal(DemoTouchpoints.PurchaseSource, p.Source));
        var published = Rows.Select(r => ($"cdnow-{r.SampleId}", r.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.DollarValue, r.NumberOfCds))
            .Order().ToList();
        var demo = purchases.Select(p => (p.CustomerId, p.OccurredAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), p.Amount, p.Items.Sum(i => i.Quantity)))
            .Order().ToList();
        Assert.Equal(published, demo);
        Assert.Equal(6_696, purchases.Select(p => (p.CustomerId, p.OccurredAt)).Distinct().Count());
    }

    [Fact]
    public void No_two_demo_customers_share_an_e_mail_address_or_a_phone_number()
    {
        var details = Demo.OfType<ContactDetailsChanged>().ToList();
        var phones = details.Where(d => d.Phone is not null).Select(d => (d.CustomerId, d.Phone)).Distinct().ToList();
        var emails = details.Where(d => d.Email is not null).Select(d => (d.CustomerId, d.Email)).Distinct().ToList();

        Assert.True(phones.Count > 20, $"{phones.Count} customers have a phone number");
        Assert.Equal(phones.Count, phones.Select(p => p.Phone).Distinct().Count());
        Assert.Equal(emails.Count, emails.Select(e => e.Email).Distinct().Count());
        Assert.All(phones, p => Assert.Matches(@"^\+1 [2-9]\d\d-555-01\d\d$", p.Phone));
    }

    [Fact]
    public void The_generated_layer_covers_every_other_kind_for_a_share_of_customers()
    {
        var kinds = Demo.Select(TouchpointCatalogue.KindOf).ToHashSet();
        var complained = Demo.OfType<ComplaintLogged>().Select(c => c.CustomerId).Distinct().Count();

        Assert.Equal(TouchpointCatalogue.Names.ToHashSet(), kinds);
        Assert.InRange(complained / 2_357.0, 0.03, 0.10);
    }

    [Fact]
    public void Every_demo_touchpoint_passes_the_same_intake_as_ingested_ones_and_keys_are_unique()
    {
        var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture);

        Assert.Equal(Demo.Count, Demo.Select(t => (t.Source, t.SourceId)).Distinct().Count());
        foreach (var touchpoint in Demo)
        {
            var request = AsRequest(touchpoint);
            using var document = JsonDocument.Parse(request.ToJsonString());
            var result = TouchpointIntake.Read(document.RootElement, null, now, new PlaintextPersonalData());

            Assert.True(result.Accepted, $"{touchpoint.SourceId}: {string.Join("; ", result.Errors.ToDictionary().Select(e => $"{e.Key} {string.Join(",", e.Value)}"))}");
            Assert.Equal(JsonSerializer.Serialize<object>(touchpoint, Json), JsonSerializer.Serialize<object>(result.Touchpoint!, Json));
        }
    }

    [Fact]
    public void Every_generated_complaint_step_passes_its_cases_rules()
    {
        var refused = new List<string>();
        foreach (var customer in Demo.GroupBy(t => t.CustomerId))
        {
            var payments = new OrderPayments(
                customer.OfType<PurchaseMade>().Select(p => new OrderMoney(p.OrderId, p.Amount, p.Currency)).ToList(),
                customer.OfType<PurchaseReturned>().Select(r => new OrderMoney(r.OrderId, r.Amount, r.Currency)).ToList());
            foreach (var @case in customer.Where(t => ComplaintCase.CaseOf(t) is not null).GroupBy(t => ComplaintCase.CaseOf(t)))
            {
                ComplaintCase? state = null;
                foreach (var step in @case)
                {
                    try
                    {
                        state = ComplaintDecisions.Decide(state, step, payments).Aggregate(state, ComplaintCase.Fold);
                    }
                    catch (ComplaintRuleException e)
                    {
                        refused.Add($"{@case.Key} {TouchpointCatalogue.KindOf(step)}: {e.Rule}");
                    }
                }
            }
        }

        Assert.Empty(refused);
    }

    [Fact]
    public void The_demo_is_deterministic()
    {
        var again = DemoTouchpoints.Build(Rows, (_, text) => text);

        Assert.Equal(JsonSerializer.Serialize<object>(Demo, Json), JsonSerializer.Serialize<object>(again, Json));
    }

    private static JsonObject AsRequest(Touchpoint touchpoint)
    {
        var all = JsonSerializer.SerializeToNode<object>(touchpoint, Json)!.AsObject();
        var data = new JsonObject();
        foreach (var (name, value) in all.ToList())
        {
            if (name is not ("customerId" or "occurredAt" or "channel" or "source" or "sourceId" or "correlationId"))
            {
                all.Remove(name);
                if (value is not null)
                {
                    data[name] = value;
                }
            }
        }

        all.Remove("correlationId");
        all["kind"] = TouchpointCatalogue.KindOf(touchpoint);
        all["data"] = data;
        return all;
    }
}
