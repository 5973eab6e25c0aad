using System.Globalization;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Demo;

/// <summary>
/// Turns the CDNOW sample into a demo history of touchpoints. Pure and deterministic: the same rows, seed
/// and seal give the same list, so the ledger's (source, sourceId) de-duplication makes a reload a no-op.
/// <para>
/// Purchases are exactly the published data, one <see cref="PurchaseMade"/> per row. CDNOW holds nothing
/// else (data/cdnow/README.md), so the rest of the journey is a generated layer, kept apart by its
/// sources and by source ids starting with "gen-". It never adds a purchase.
/// </para>
/// </summary>
public static class DemoTouchpoints
{
    public const int DefaultSeed = 1997;

    public const string PurchaseSource = "cdnow";
    public const string ReturnsSource = "returns-desk";
    public const string CrmSource = "crm";
    public const string SurveySource = "survey-tool";
    public const string LoyaltySource = "loyalty";
    public const string ConsentSource = "consent-center";

    public const string MarketingEmail = "marketing-email";

    /// <summary>Demo customers are named after their CDNOW sample id: "cdnow-0001".</summary>
    public static string CustomerIdOf(string sampleId) => $"cdnow-{sampleId}";

    /// <summary>The source systems the demo writes as; each gets an API key in Development.</summary>
    public static readonly IReadOnlyList<string> Sources = [PurchaseSource, ReturnsSource, CrmSource, SurveySource, LoyaltySource, ConsentSource];
    public const string Currency = "USD";

    // Shares of the generated layer, chosen to look like a mid-1990s mail-order retailer rather than measured:
    // - returns: 3% of purchases with a non-zero amount, 3-20 days later, for the full amount or some of the CDs;
    // - complaints: 6% of customers, 1-10 days after one of their purchases (15% of those with two or more
    //   paid purchases complain a second time); apology, remedy and follow-up call follow with probabilities
    //   that rise with severity;
    // - surveys: 14% of customers without a complaint and 35% of those with one (about 15% overall);
    // - support contacts: 10% of customers, a quarter of them twice;
    // - loyalty: 30% of customers enrolled from their first purchase, earning floor(amount) points per
    //   purchase; on a later purchase day, a quarter of the time, they redeem part of the balance;
    // - consent: 70% give marketing-email consent at their first purchase, 10% of those withdraw it later;
    // - contact details: 5% of customers change them once, to obviously fake values.
    private const double ReturnShare = 0.03;
    private const double ComplaintShare = 0.06;
    private const double SecondComplaintShare = 0.15;
    private const double SurveyShareContent = 0.14;
    private const double SurveyShareComplained = 0.35;
    private const double SupportShare = 0.10;
    private const double SecondSupportShare = 0.25;
    private const double LoyaltyShare = 0.30;
    private const double RedeemShare = 0.25;
    private const double ConsentShare = 0.70;
    private const double WithdrawShare = 0.10;
    private const double ContactChangeShare = 0.05;

    // The demo's business time stays inside the CDNOW years, whatever the generated offsets add up to.
    public static readonly DateTimeOffset Earliest = new(1997, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Latest = new(1998, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Builds every customer's touchpoints: customers in file order, each one's touchpoints in business-time order.</summary>
    /// <param name="rows">The CDNOW rows, in file order.</param>
    /// <param name="seal">The personal-data seam: (customer id, plaintext) to the stored form of a personal field.</param>
    /// <param name="seed">Seeds the generated layer.</param>
    public static List<Touchpoint> Build(IReadOnlyList<CdnowPurchase> rows, Func<string, string, string> seal, int seed = DefaultSeed)
    {
        var random = new Random(seed);
        var touchpoints = new List<Touchpoint>(rows.Count * 2);

        // GroupBy keeps customers in order of first appearance and each customer's rows in file order.
        foreach (var customer in Purchases(rows).GroupBy(p => p.CustomerId, StringComparer.Ordinal))
        {
            var purchases = customer.ToList();
            var journey = new List<Touchpoint>(purchases);
            new CustomerStory(customer.Key, purchases, random, seal, journey).Tell();

            // Stable: purchases stay in file order, and a purchase precedes what happens at the same instant.
            touchpoints.AddRange(journey.OrderBy(t => t.OccurredAt));
        }

        return touchpoints;
    }

    /// <summary>One <see cref="PurchaseMade"/> per row, in file order.</summary>
    public static List<PurchaseMade> Purchases(IReadOnlyList<CdnowPurchase> rows)
    {
        // 177 customer-days have several rows; numbering them keeps every row its own order.
        var rowsPerCustomerDay = new Dictionary<(string MasterId, DateOnly Date), int>();
        var purchases = new List<PurchaseMade>(rows.Count);
        foreach (var row in rows)
        {
            var key = (row.MasterId, row.Date);
            var n = rowsPerCustomerDay[key] = rowsPerCustomerDay.GetValueOrDefault(key) + 1;
            var orderId = $"{row.MasterId}-{row.Date.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}-{n}";
            purchases.Add(new PurchaseMade
            {
                CustomerId = CustomerIdOf(row.SampleId),
                OccurredAt = new DateTimeOffset(row.Date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
                Channel = Channel.Web,
                Source = PurchaseSource,
                SourceId = orderId,
                OrderId = orderId,
                Amount = row.DollarValue,
                Currency = Currency,
                Items = [new LineItem("cd", row.NumberOfCds, Math.Round(row.DollarValue / row.NumberOfCds, 2))],
            });
        }

        return purchases;
    }

    private enum Mood
    {
        Content,
        Resolved,
        Unhappy,
    }

    /// <summary>The generated layer for one customer. Draws from the shared random in a fixed order, so it is reproducible.</summary>
    private sealed class CustomerStory(
        string customerId,
        List<PurchaseMade> purchases,
        Random random,
        Func<string, string, string> seal,
        List<Touchpoint> journey)
    {
        private static readonly string[] ReturnReasons = ["damaged", "wrong item", "changed mind", "duplicate order", "not as described"];
        private static readonly string[] ComplaintCategories = ["delivery", "damaged", "billing", "wrong-item", "service"];
        private static readonly string[] SupportTopics = ["order-status", "delivery", "payment", "account", "product-question", "returns"];

        // Most complaints are minor; a handful are serious.
        private static readonly (ComplaintSeverity Value, int Weight)[] Severities =
            [(ComplaintSeverity.Low, 45), (ComplaintSeverity.Medium, 35), (ComplaintSeverity.High, 15), (ComplaintSeverity.Critical, 5)];

        // In 1997 customers complained by e-mail or phone; a few used the web form.
        private static readonly (Channel Value, int Weight)[] ComplaintChannels =
            [(Channel.Email, 50), (Channel.Phone, 35), (Channel.Web, 15)];

        private static readonly (Channel Value, int Weight)[] SupportChannels =
            [(Channel.Email, 50), (Channel.Phone, 40), (Channel.Web, 10)];

        private static readonly (Channel Value, int Weight)[] ReturnChannels =
            [(Channel.Web, 60), (Channel.Email, 25), (Channel.Phone, 15)];

        private static readonly (Channel Value, int Weight)[] SurveyChannels = [(Channel.Email, 60), (Channel.Web, 40)];

        // CSAT 5..1 by mood: an unresolved complaint drags the score down.
        private static readonly int[] ContentCsat = [40, 35, 15, 6, 4];
        private static readonly int[] ResolvedCsat = [25, 40, 20, 10, 5];
        private static readonly int[] UnhappyCsat = [3, 7, 20, 35, 35];

        private readonly List<PurchaseMade> _byDate = [.. purchases.OrderBy(p => p.OccurredAt)];

        private int _complaints;

        // What was returned per order, so a refund never exceeds what is left to refund.
        private readonly Dictionary<string, decimal> _returned = new(StringComparer.Ordinal);
        private Mood _mood = Mood.Content;
        private DateTimeOffset _lastComplaintStep;

        public void Tell()
        {
            Consent();
            Loyalty();
            Returns();
            Complaints();
            SupportContacts();
            ContactDetails();
            Survey();
        }

        private void Consent()
        {
            if (!Chance(ConsentShare))
            {
                return;
            }

            var first = _byDate[0];
            Add(new ConsentGiven { Purpose = MarketingEmail }, first.OccurredAt, Channel.Web, ConsentSource, $"gen-consent-given-{customerId}");
            if (Chance(WithdrawShare))
            {
                var lastDay = _byDate[^1].OccurredAt.AddDays(180);
                var span = (int)((lastDay - first.OccurredAt).TotalDays) - 14;
                var at = Later(first.OccurredAt, 14 + random.Next(0, Math.Max(1, span)));
                Add(new ConsentWithdrawn { Purpose = MarketingEmail }, at, Chance(0.7) ? Channel.Email : Channel.Web,
                    ConsentSource, $"gen-consent-withdrawn-{customerId}");
            }
        }

        private void Loyalty()
        {
            if (!Chance(LoyaltyShare))
            {
                return;
            }

            var balance = 0;
            DateTimeOffset? day = null;
            foreach (var purchase in _byDate)
            {
                // Points redeem only against what earlier days earned, so a redemption never exceeds the balance.
                if (purchase.OccurredAt != day)
                {
                    day = purchase.OccurredAt;
                    var balanceBeforeToday = balance;
                    if (balanceBeforeToday >= 100 && Chance(RedeemShare))
                    {
                        var points = 100 * random.Next(1, Math.Min(5, balanceBeforeToday / 100) + 1);
                        Add(new LoyaltyPointsRedeemed { Points = points, Reason = $"discount on order {purchase.OrderId}" },
                            purchase.OccurredAt, Channel.Web, LoyaltySource, $"gen-points-redeemed-{purchase.OrderId}");
                        balance -= points;
                    }
                }

                // A free (0.00) purchase or one under a dollar earns nothing: points must be at least 1.
                var earned = (int)Math.Floor(purchase.Amount);
                if (earned >= 1)
                {
                    Add(new LoyaltyPointsEarned { Points = earned, Reason = $"purchase {purchase.OrderId}" },
                        purchase.OccurredAt, Channel.Web, LoyaltySource, $"gen-points-earned-{purchase.OrderId}");
                    balance += earned;
                }
            }
        }

        private void Returns()
        {
            for (var i = 0; i < purchases.Count; i++)
            {
                var purchase = purchases[i];
                if (purchase.Amount <= 0 || !Chance(ReturnShare))
                {
                    continue;
                }

                var cds = purchase.Items[0].Quantity;
                var amount = cds > 1 && Chance(0.4)
                    ? Math.Round(purchase.Amount * random.Next(1, cds) / cds, 2)
                    : purchase.Amount;
                _returned[purchase.OrderId] = _returned.GetValueOrDefault(purchase.OrderId) + Math.Min(amount, purchase.Amount);
                Add(new PurchaseReturned
                {
                    OrderId = purchase.OrderId,
                    Amount = Math.Min(amount, purchase.Amount),
                    Currency = Currency,
                    Reason = Pick(ReturnReasons),
                }, Later(purchase.OccurredAt, random.Next(3, 21)), Weighted(ReturnChannels), ReturnsSource,
                    $"gen-return-{customerId}-{i + 1}");
            }
        }

        private void Complaints()
        {
            if (!Chance(ComplaintShare))
            {
                return;
            }

            // A complaint about a free order has nothing to refund, so prefer orders that cost something.
            var candidates = purchases.Where(p => p.Amount > 0).ToList() is { Count: > 0 } paid ? paid : purchases;
            var first = Pick(candidates);
            List<PurchaseMade> about = [first];
            if (candidates.Count > 1 && Chance(SecondComplaintShare))
            {
                about.Add(Pick(candidates.Where(p => p != first).ToList()));
            }

            // Numbered in business-time order, so c1 is the customer's first complaint.
            foreach (var purchase in about.OrderBy(p => p.OccurredAt))
            {
                Complaint(purchase);
            }
        }

        private void Complaint(PurchaseMade purchase)
        {
            var complaintId = $"{customerId}-c{++_complaints}";
            var category = Pick(ComplaintCategories);
            var severity = Weighted(Severities);
            var channel = Weighted(ComplaintChannels);
            var reply = channel == Channel.Phone ? Channel.Phone : Channel.Email;
            var loggedAt = Later(purchase.OccurredAt, random.Next(1, 11));
            var step = 0;
            void Step(Touchpoint touchpoint, DateTimeOffset at, Channel on) => Add(touchpoint, at, on, CrmSource, $"gen-{complaintId}-{++step}");

            Step(new ComplaintLogged
            {
                ComplaintId = complaintId,
                Category = category,
                Severity = severity,
                Description = seal(customerId, Describe(category, purchase.OrderId)),
                OrderIds = [purchase.OrderId],
            }, loggedAt, channel);

            // Most are acknowledged well inside the promise (24 h; 2 h when critical); some slip, so the demo has breaches.
            var critical = severity == ComplaintSeverity.Critical;
            var onTime = Chance(0.85);
            var last = loggedAt.AddMinutes(critical
                ? onTime ? random.Next(10, 110) : random.Next(150, 600)
                : onTime ? random.Next(30, 20 * 60) : random.Next(26 * 60, 72 * 60));
            Step(new ComplaintAcknowledged { ComplaintId = complaintId }, last, reply);

            var serious = severity >= ComplaintSeverity.High;
            if (Chance(serious ? 0.30 : 0.08))
            {
                last = last.AddHours(random.Next(1, 24));
                Step(new ComplaintEscalated { ComplaintId = complaintId, To = $"supervisor-{random.Next(1, 5)}", Reason = seal(customerId, "Customer asked for a manager.") },
                    last, Channel.Phone);
            }

            if (Chance(0.15))
            {
                last = last.AddHours(random.Next(2, 48));
                Step(new ComplaintAwaitingCustomer { ComplaintId = complaintId, Reason = seal(customerId, AskFor(category)) }, last, Channel.Email);
                last = Later(last, random.Next(1, 6));
                Step(new CustomerResponded { ComplaintId = complaintId }, last, Channel.Email);
            }

            var apologised = Chance(serious ? 0.95 : 0.75);
            if (apologised)
            {
                last = last.AddHours(random.Next(1, 30));
                Step(new ApologyIssued
                {
                    ComplaintId = complaintId,
                    By = $"agent-{random.Next(1, 25):00}",
                    Wording = seal(customerId, Apologise(category, purchase.OrderId)),
                }, last, reply);
            }

            var remedied = Chance(severity switch
            {
                ComplaintSeverity.Low => 0.40,
                ComplaintSeverity.Medium => 0.65,
                ComplaintSeverity.High => 0.85,
                _ => 0.95,
            });
            if (remedied)
            {
                var (remedy, amount) = ChooseRemedy(category, purchase.Amount - _returned.GetValueOrDefault(purchase.OrderId));
                last = last.AddHours(random.Next(2, 48));
                Step(new RemedyOffered { ComplaintId = complaintId, Remedy = remedy, Amount = amount, Currency = Currency }, last, Channel.Email);
                last = last.AddHours(random.Next(2, 72));
                if (Chance(0.85))
                {
                    Step(new RemedyAccepted { ComplaintId = complaintId }, last, Channel.Email);
                }
                else
                {
                    Step(new RemedyDeclined { ComplaintId = complaintId, Reason = seal(customerId, "Not enough for the trouble.") }, last, Channel.Email);
                    last = last.AddHours(random.Next(2, 48));
                    Step(new RemedyOffered { ComplaintId = complaintId, Remedy = Remedy.GoodwillCredit, Amount = 25m, Currency = Currency }, last, Channel.Phone);
                    last = last.AddHours(random.Next(2, 48));
                    Step(new RemedyAccepted { ComplaintId = complaintId }, last, Channel.Phone);
                }
            }

            bool? satisfied = null;
            for (var cycle = 0; cycle < 2; cycle++)
            {
                // Resolution inside the promise (5 days; 24 h when critical) most of the time.
                last = last.AddHours(critical ? random.Next(1, Chance(0.8) ? 20 : 60) : random.Next(4, Chance(0.85) ? 96 : 200));
                Step(new ComplaintResolved
                {
                    ComplaintId = complaintId,
                    RootCause = RootCause(category),
                    Summary = seal(customerId, $"Settled the {category} complaint about order {purchase.OrderId}."),
                }, last, reply);

                if (Chance(serious ? 0.90 : 0.60))
                {
                    // A customer not reached the first time gets a second try half of the time.
                    for (var attempt = 1; attempt <= 2; attempt++)
                    {
                        last = last.AddHours(attempt == 1 ? random.Next(4, Chance(0.85) ? 70 : 140) : random.Next(20, 100));
                        var reached = Chance(0.75);
                        var happy = reached
                            ? Chance((remedied ? 0.80 : apologised ? 0.55 : 0.35) - (critical ? 0.15 : 0))
                            : (bool?)null;
                        satisfied = happy;
                        Step(new FollowUpCallCompleted
                        {
                            ComplaintId = complaintId,
                            Outcome = reached ? CallOutcome.Reached : CallOutcome.NotReached,
                            Satisfied = happy,
                            Notes = Chance(0.6) ? seal(customerId, CallNotes(happy)) : null,
                        }, last, Channel.Phone);
                        if (reached || !Chance(0.5))
                        {
                            break;
                        }
                    }
                }

                // Half of those who said on the phone they are still unhappy reopen the case, once.
                if (cycle == 0 && satisfied == false && Chance(0.5))
                {
                    last = Later(last, random.Next(1, 8));
                    Step(new ComplaintReopened { ComplaintId = complaintId, Reason = seal(customerId, "The problem is back.") }, last, channel);
                    continue;
                }

                break;
            }

            if (Chance(0.9))
            {
                last = Later(last, random.Next(1, 8));
                Step(new ComplaintClosed { ComplaintId = complaintId }, last, Channel.Web);
            }

            // Only a customer who said on the phone that all is well counts as resolved.
            _mood = satisfied == true && _mood != Mood.Unhappy ? Mood.Resolved : Mood.Unhappy;
            _lastComplaintStep = last > _lastComplaintStep ? last : _lastComplaintStep;
        }

        private string RootCause(string category) => category switch
        {
            "delivery" => Pick(["carrier-delay", "warehouse-backlog"]),
            "damaged" => "packaging",
            "billing" => "payment-system",
            "wrong-item" => "picking-error",
            _ => "staff-training",
        };

        private static string AskFor(string category) => category switch
        {
            "damaged" => "Waiting for a photo of the damage.",
            "billing" => "Waiting for the card statement.",
            _ => "Waiting for the customer to confirm the details.",
        };

        private (Remedy Remedy, decimal Amount) ChooseRemedy(string category, decimal purchaseAmount)
        {
            // Money back fits goods that were wrong or charged wrongly; the rest get a gesture.
            var refundable = purchaseAmount > 0 && category is "damaged" or "wrong-item" or "billing";
            if (refundable && Chance(0.7))
            {
                var partial = Math.Round(purchaseAmount * random.Next(20, 80) / 100m, 2);
                return (Remedy.Refund, Chance(0.6) || partial <= 0 ? purchaseAmount : Math.Min(partial, purchaseAmount));
            }

            return Chance(0.5)
                ? (Remedy.Discount, Pick([5m, 10m, 15m]))
                : (Remedy.GoodwillCredit, Pick([5m, 10m, 20m, 25m]));
        }

        private void SupportContacts()
        {
            if (!Chance(SupportShare))
            {
                return;
            }

            var contacts = Chance(SecondSupportShare) ? 2 : 1;
            for (var n = 1; n <= contacts; n++)
            {
                Add(new SupportContactMade { Topic = Pick(SupportTopics), ResolvedOnFirstContact = Chance(0.8) },
                    Later(Pick(purchases).OccurredAt, random.Next(1, 15)), Weighted(SupportChannels), CrmSource,
                    $"gen-support-{customerId}-{n}");
            }
        }

        private void ContactDetails()
        {
            if (!Chance(ContactChangeShare))
            {
                return;
            }

            // Obviously fake: example.com is reserved for examples, 555-0100 to 555-0199 are fictional in every area code.
            // Each customer gets a number of their own (area code from the customer number), so identity resolution never
            // links two CDNOW customers by a phone they would otherwise share.
            var number = customerId["cdnow-".Length..];
            var email = $"customer{number}@example.com";
            var sequence = int.Parse(number, System.Globalization.CultureInfo.InvariantCulture);
            var phone = $"+1 {200 + sequence / 100:000}-555-01{sequence % 100:00}";
            var change = random.Next(0, 10) switch
            {
                < 5 => new ContactDetailsChanged { Email = seal(customerId, email) },
                < 7 => new ContactDetailsChanged { Phone = seal(customerId, phone) },
                _ => new ContactDetailsChanged
                {
                    Name = seal(customerId, $"Customer {number}"),
                    Email = seal(customerId, email),
                    Phone = Chance(0.5) ? seal(customerId, phone) : null,
                },
            };
            Add(change, Later(Pick(purchases).OccurredAt, random.Next(1, 60)), Channel.Web, CrmSource, $"gen-contact-{customerId}-1");
        }

        private void Survey()
        {
            if (!Chance(_complaints > 0 ? SurveyShareComplained : SurveyShareContent))
            {
                return;
            }

            // Customers who complained are surveyed after the case; others some weeks after a purchase.
            var at = _complaints > 0
                ? Later(_lastComplaintStep, random.Next(2, 15))
                : Later(Pick(purchases).OccurredAt, random.Next(3, 31));
            var csat = 5 - WeightedIndex(_mood switch
            {
                Mood.Content => ContentCsat,
                Mood.Resolved => ResolvedCsat,
                _ => UnhappyCsat,
            });

            // NPS follows the same feeling as CSAT, with some spread.
            var nps = csat switch
            {
                5 => random.Next(9, 11),
                4 => random.Next(7, 10),
                3 => random.Next(5, 8),
                2 => random.Next(3, 6),
                _ => random.Next(0, 4),
            };
            var asked = random.Next(0, 100);
            Add(new SurveyAnswered
            {
                Csat = asked < 85 ? csat : null,
                Nps = asked < 60 || asked >= 85 ? nps : null,
                Comment = Chance(0.35) ? seal(customerId, Comment(csat)) : null,
            }, at, Weighted(SurveyChannels), SurveySource, $"gen-survey-{customerId}-1");
        }

        private string Describe(string category, string orderId) => category switch
        {
            "delivery" => Chance(0.5)
                ? $"Order {orderId} arrived {random.Next(3, 15)} days later than the promised delivery date."
                : $"Order {orderId} has not arrived yet.",
            "damaged" => Chance(0.5)
                ? $"One of the CDs in order {orderId} arrived with a cracked case."
                : $"A disc in order {orderId} skips on several tracks.",
            "billing" => Chance(0.5)
                ? $"The card was charged twice for order {orderId}."
                : $"The amount charged for order {orderId} differs from the order confirmation.",
            "wrong-item" => $"Order {orderId} contained a different album than the one ordered.",
            _ => $"Several e-mails about order {orderId} went unanswered for over a week.",
        };

        private static string Apologise(string category, string orderId) => category switch
        {
            "delivery" => $"We are sorry that order {orderId} did not reach you on time.",
            "damaged" => $"We are sorry that order {orderId} reached you damaged.",
            "billing" => $"We are sorry for the billing error on order {orderId}.",
            "wrong-item" => $"We are sorry that we sent the wrong album for order {orderId}.",
            _ => $"We are sorry that it took us so long to answer you about order {orderId}.",
        };

        private string CallNotes(bool? satisfied) => satisfied switch
        {
            true => Chance(0.5) ? "Customer confirmed the issue is resolved." : "Customer thanked us for the quick fix.",
            false => Chance(0.5) ? "Customer is still unhappy with how the case was handled." : "Customer expected more than what was offered.",
            null => Chance(0.5) ? "No answer; left a voicemail." : "Line busy; will not call again.",
        };

        private string Comment(int csat) => csat switch
        {
            >= 4 => Pick(["Fast delivery and a great selection.", "Easy to find what I was looking for.", "Good prices on new releases."]),
            3 => Pick(["Delivery could be faster.", "The site is slow at times.", "Prices are fine, shipping is expensive."]),
            _ => Pick(["My problem was not solved.", "Too hard to reach anyone.", "Will shop elsewhere next time."]),
        };

        private void Add(Touchpoint touchpoint, DateTimeOffset at, Channel channel, string source, string sourceId) =>
            journey.Add(touchpoint with
            {
                CustomerId = customerId,
                OccurredAt = at < Earliest ? Earliest : at > Latest ? Latest : at,
                Channel = channel,
                Source = source,
                SourceId = sourceId,
            });

        /// <summary>Some days after <paramref name="from"/>, during office hours (UTC), never past <see cref="Latest"/>.</summary>
        private DateTimeOffset Later(DateTimeOffset from, int days)
        {
            var at = new DateTimeOffset(from.UtcDateTime.Date, TimeSpan.Zero)
                .AddDays(days)
                .AddHours(random.Next(9, 18))
                .AddMinutes(random.Next(0, 60));
            return at > Latest ? Latest : at < from ? from : at;
        }

        private bool Chance(double probability) => random.NextDouble() < probability;

        private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

        private T Weighted<T>((T Value, int Weight)[] choices) => choices[WeightedIndex(choices.Select(c => c.Weight).ToArray())].Value;

        private int WeightedIndex(int[] weights)
        {
            var roll = random.Next(weights.Sum());
            for (var i = 0; i < weights.Length; i++)
            {
                roll -= weights[i];
                if (roll < 0)
                {
                    return i;
                }
            }

            return weights.Length - 1;
        }
    }
}
