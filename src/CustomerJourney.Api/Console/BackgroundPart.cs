namespace CustomerJourney.WebConsole;

/// <summary>
/// A part of a page that takes seconds (it reads every customer's events): the page renders at once with a visible
/// "Loading …" state, then htmx fetches <paramref name="Url"/> (a page handler answering a partial) and swaps the fragment
/// in. Without script the placeholder is a link to the same fragment.
/// </summary>
public sealed record BackgroundPart(string Url, string Label);
