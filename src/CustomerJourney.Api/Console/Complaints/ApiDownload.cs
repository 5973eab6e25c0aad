namespace CustomerJourney.WebConsole.Complaints;

/// <summary>
/// What an API endpoint's code answered, written to the page's own response as that endpoint writes it (JSON, CSV, or its
/// problem), offered as a file to save: the console's export links serve the API's exports byte for byte.
/// </summary>
public sealed class ApiDownload(IResult answer, string fileName) : Microsoft.AspNetCore.Mvc.IActionResult
{
    public async Task ExecuteResultAsync(Microsoft.AspNetCore.Mvc.ActionContext context)
    {
        var http = context.HttpContext;
        // A problem is shown in the browser as the API would answer it; only a file is offered for saving.
        if (answer is IStatusCodeHttpResult { StatusCode: >= 200 and < 300 } or IValueHttpResult { Value: not Microsoft.AspNetCore.Mvc.ProblemDetails })
        {
            http.Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = fileName, DispositionType = "attachment" }.ToString();
        }

        await answer.ExecuteAsync(http);
    }
}
