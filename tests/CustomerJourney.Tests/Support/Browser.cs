using System.Net;

namespace CustomerJourney.Tests.Support;

/// <summary>
/// A browser without a screen, for sign-in flows: one cookie jar, redirects followed by hand, requests for the service
/// (https://localhost) sent to its in-process test server and every other address over the network (the provider on
/// loopback). The service is addressed over https so its Secure cookies travel as they would in production.
/// </summary>
public sealed class Browser(HttpMessageHandler service, CookieContainer? jar = null) : IDisposable
{
    public static readonly Uri Service = new("https://localhost/");

    private readonly HttpClient _service = new(service) { BaseAddress = Service };
    private readonly HttpClient _network = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    public CookieContainer Jar { get; } = jar ?? new CookieContainer();

    /// <summary>Every response seen, in order, with the address it answered.</summary>
    public List<(Uri Url, HttpResponseMessage Response)> Seen { get; } = [];

    public Task<HttpResponseMessage> Get(string url) => Go(HttpMethod.Get, new Uri(Service, url), null);

    public Task<HttpResponseMessage> Post(Uri url, IDictionary<string, string> form) => Go(HttpMethod.Post, url, new FormUrlEncodedContent(form));

    /// <summary>Sends, then follows redirects (as a GET) until an answer that is not one.</summary>
    public async Task<HttpResponseMessage> Go(HttpMethod method, Uri url, HttpContent? content)
    {
        for (var hops = 0; hops < 20; hops++)
        {
            var answer = await Send(method, url, content);
            if ((int)answer.StatusCode is < 300 or >= 400 || answer.Headers.Location is null)
            {
                return answer;
            }

            (method, url, content) = (HttpMethod.Get, new Uri(url, answer.Headers.Location), null);
        }

        throw new InvalidOperationException($"More than 20 redirects, the last to {url}.");
    }

    public Uri LastUrl => Seen[^1].Url;

    private async Task<HttpResponseMessage> Send(HttpMethod method, Uri url, HttpContent? content)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (Jar.GetCookieHeader(url) is { Length: > 0 } cookies)
        {
            request.Headers.Add("Cookie", cookies);
        }

        var answer = await (url.Host == Service.Host ? _service : _network).SendAsync(request, TestContext.Current.CancellationToken);
        if (answer.Headers.TryGetValues("Set-Cookie", out var set))
        {
            foreach (var cookie in set)
            {
                Jar.SetCookies(url, cookie);
            }
        }

        Seen.Add((url, answer));
        return answer;
    }

    /// <summary>The value of a hidden or text input in an HTML form answer.</summary>
    public static string Input(string html, string name)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, $"name=\"{System.Text.RegularExpressions.Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"");
        Assert.True(match.Success, $"No input '{name}' in: {html}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public void Dispose()
    {
        _service.Dispose();
        _network.Dispose();
    }
}
