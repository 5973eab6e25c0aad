using System.Globalization;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Complaints;

/// <summary>
/// A step the case's rules forbid. <see cref="Status"/> is 409 when the case's state forbids it (closed, not yet
/// acknowledged, a stale version) and 422 when what was sent breaks a rule (a refund above what was paid).
/// </summary>
public sealed class ComplaintRuleException(int status, string rule, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    /// <summary>A stable, machine-readable name of the rule, e.g. "case-closed".</summary>
    public string Rule { get; } = rule;

    public static ComplaintRuleException Conflict(string rule, string detail) => new(StatusCodes.Status409Conflict, rule, detail);

    public static ComplaintRuleException Unprocessable(string rule, string detail) => new(StatusCodes.Status422UnprocessableEntity, rule, detail);

    public static ComplaintRuleException StaleVersion(string complaintId, long expected, long actual) => Conflict("stale-version",
        $"Complaint {complaintId} is at version {actual}, not {expected}: somebody changed it since you read it. Read it again and retry.");
}

/// <summary>What the customer paid and returned on an order: the facts the refund rule reads from the customer's stream.</summary>
public sealed record OrderMoney(string OrderId, decimal Amount, string Currency);

public sealed record OrderPayments(IReadOnlyList<OrderMoney> Paid, IReadOnlyList<OrderMoney> Returned)
{
    public static readonly OrderPayments None = new([], []);
}

/// <summary>
/// The rules of a complaint case: one pure decision per step, from the case so far, the step (a touchpoint carrying
/// its business time) and, for refunds, what the customer paid. Returns the events to append or throws
/// <see cref="ComplaintRuleException"/>.
/// </summary>
public static class ComplaintDecisions
{
    public static IReadOnlyList<object> Decide(ComplaintCase? state, Touchpoint step, OrderPayments payments)
    {
        var complaintId = ComplaintCase.CaseOf(step) ?? throw new ArgumentException("Not a complaint step.", nameof(step));
        if (state is null)
        {
            return step is ComplaintLogged
                ? [step]
                : throw ComplaintRuleException.Unprocessable("unknown-complaint", $"Complaint {complaintId} has not been logged.");
        }

        if (step is ComplaintLogged)
        {
            throw ComplaintRuleException.Conflict("already-logged", $"Complaint {complaintId} was already logged on {state.LoggedAt:O}.");
        }

        if (!string.Equals(step.CustomerId, state.CustomerId, StringComparison.Ordinal))
        {
            throw ComplaintRuleException.Unprocessable("other-customer", $"Complaint {complaintId} belongs to another customer.");
        }

        if (state.Status == ComplaintStatus.Closed)
        {
            throw ComplaintRuleException.Conflict("case-closed", $"Complaint {complaintId} was closed on {state.ClosedAt:O}; a closed case takes no more steps.");
        }

        if (step.OccurredAt < state.LoggedAt)
        {
            throw ComplaintRuleException.Unprocessable("before-logged", $"occurredAt {step.OccurredAt:O} is before the complaint was logged ({state.LoggedAt:O}).");
        }

        Check(state, step, payments);
        return [step];
    }

    private static void Check(ComplaintCase state, Touchpoint step, OrderPayments payments)
    {
        var id = state.ComplaintId;
        switch (step)
        {
            case ComplaintAcknowledged when state.Status != ComplaintStatus.Logged:
                throw ComplaintRuleException.Conflict("already-acknowledged", $"Complaint {id} was already acknowledged on {state.AcknowledgedAt:O}.");
            case ComplaintEscalated when !state.IsOpen:
                throw NotOpen(state);
            case ComplaintEscalated when state.EscalatedAt is not null:
                throw ComplaintRuleException.Conflict("already-escalated", $"Complaint {id} was already escalated on {state.EscalatedAt:O}.");
            case RemedyOffered when !state.IsOpen:
                throw NotOpen(state);
            case RemedyOffered when state.PendingRemedy is { } pending:
                throw ComplaintRuleException.Conflict("remedy-pending",
                    $"A {Name(pending.Remedy)} offered on {pending.OfferedAt:O} still waits for the customer's answer.");
            case RemedyOffered { Remedy: Remedy.Refund } refund:
                CheckRefund(state, refund, payments);
                break;
            case RemedyAccepted or RemedyDeclined when state.PendingRemedy is null:
                throw ComplaintRuleException.Conflict("no-remedy-pending", $"No remedy offered on complaint {id} waits for an answer.");
            case ComplaintAwaitingCustomer when state.Status == ComplaintStatus.Logged:
                throw NotAcknowledged(id);
            case ComplaintAwaitingCustomer when state.Status == ComplaintStatus.AwaitingCustomer:
                throw ComplaintRuleException.Conflict("already-awaiting-customer", $"Complaint {id} is already waiting for the customer.");
            case ComplaintAwaitingCustomer when !state.IsOpen:
                throw NotOpen(state);
            case CustomerResponded when state.Status != ComplaintStatus.AwaitingCustomer:
                throw ComplaintRuleException.Conflict("not-awaiting-customer", $"Complaint {id} is not waiting for the customer.");
            case ComplaintResolved when state.Status == ComplaintStatus.Logged:
                throw NotAcknowledged(id);
            case ComplaintResolved when state.Status == ComplaintStatus.AwaitingCustomer:
                throw ComplaintRuleException.Conflict("awaiting-customer", $"Complaint {id} waits for the customer; record their answer before resolving it.");
            case ComplaintResolved when state.Status == ComplaintStatus.Resolved:
                throw ComplaintRuleException.Conflict("already-resolved", $"Complaint {id} is already resolved; reopen it first.");
            case FollowUpCallCompleted or ComplaintClosed or ComplaintReopened when state.Status != ComplaintStatus.Resolved:
                throw ComplaintRuleException.Conflict("not-resolved", $"Complaint {id} is {Name(state.Status)}; this step follows a resolution.");
        }
    }

    private static void CheckRefund(ComplaintCase state, RemedyOffered refund, OrderPayments payments)
    {
        if (state.OrderIds.Count == 0)
        {
            throw ComplaintRuleException.Unprocessable("refund-exceeds-payment",
                $"Complaint {state.ComplaintId} names no orders, so there is nothing to refund; offer another remedy.");
        }

        var orders = state.OrderIds.ToHashSet(StringComparer.Ordinal);
        decimal Sum(IEnumerable<OrderMoney> money) => money.Where(m => orders.Contains(m.OrderId) && m.Currency == refund.Currency).Sum(m => m.Amount);
        var paid = Sum(payments.Paid);
        var returned = Sum(payments.Returned);
        var refunded = state.Remedies.Where(r => r is { Remedy: Remedy.Refund } && r.Answer != RemedyAnswer.Declined && r.Currency == refund.Currency)
            .Sum(r => r.Amount);
        var refundable = Math.Max(0, paid - returned - refunded);
        if (refund.Amount > refundable)
        {
            throw ComplaintRuleException.Unprocessable("refund-exceeds-payment", string.Create(CultureInfo.InvariantCulture,
                $"A refund of {refund.Amount} {refund.Currency} exceeds what may still be refunded on orders {string.Join(", ", state.OrderIds)}: " +
                $"paid {paid}, returned {returned}, already refunded {refunded}, refundable {refundable} {refund.Currency}."));
        }
    }

    private static ComplaintRuleException NotOpen(ComplaintCase state) =>
        ComplaintRuleException.Conflict("not-open", $"Complaint {state.ComplaintId} is {Name(state.Status)}; this step needs an open case (reopen it first).");

    private static ComplaintRuleException NotAcknowledged(string id) =>
        ComplaintRuleException.Conflict("not-acknowledged", $"Complaint {id} has not been acknowledged; acknowledge it first.");

    public static string Name(ComplaintStatus status) => status switch
    {
        ComplaintStatus.AwaitingCustomer => "awaiting-customer",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static string Name(Remedy remedy) => remedy == Remedy.GoodwillCredit ? "goodwill credit" : remedy.ToString().ToLowerInvariant();
}
