using System.IO.Compression;
using System.Text;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// What /v1/* must do before authentication, because the SDKs need it: decompress a gzip body whatever its content type
/// says (RudderStack sends gzipped JSON as application/x-www-form-urlencoded), refuse a body over the limits measured
/// after decompression (so a gzip bomb is a 413), and take the write key from where the SDKs put it (the Basic-auth
/// user name, or `writeKey` in the body) into the X-Api-Key header, so the one API-key handler checks it, with the same
/// 401/403 rules, revocation and rate budget as every other source system.
/// </summary>
public sealed class TrackingRequestBody(RequestDelegate next, IOptions<TrackingOptions> options)
{
    public const string PathPrefix = "/v1";
    private const string BodyKey = "tracking.body";

    /// <summary>The decompressed body this middleware read (empty when there was none).</summary>
    public static byte[] Of(HttpContext context) => context.Items[BodyKey] as byte[] ?? [];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            await next(context);
            return;
        }

        var limit = request.Path.StartsWithSegments($"{PathPrefix}/batch") ? options.Value.MaxBatchBytes : options.Value.MaxCallBytes;
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            await Problem(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding", "Send the body uncompressed or with Content-Encoding: gzip.");
            return;
        }

        // A compressed body of incompressible data is a little larger than the data; the decompressed size is what counts.
        var wireLimit = gzip ? limit + (limit / 8) + 1024 : limit;
        if (request.ContentLength > wireLimit)
        {
            await TooLarge(context, limit);
            return;
        }

        // Above our own limit, so that a chunked body over it is answered by the check below, not by the server's.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } max)
        {
            max.MaxRequestBodySize = (2 * wireLimit) + (64 * 1024);
        }

        byte[]? body;
        try
        {
            body = gzip
                ? await ReadAsync(new GZipStream(new LimitedStream(request.Body, wireLimit), CompressionMode.Decompress), declaredLength: null, limit, context.RequestAborted)
                : await ReadAsync(request.Body, request.ContentLength, limit, context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            await Problem(context, StatusCodes.Status400BadRequest, "Invalid gzip body", "The body is not valid gzip data.");
            return;
        }
        catch (LimitedStream.TooLongException)
        {
            body = null;
        }
        catch (BadHttpRequestException bad)
        {
            // This runs before the exception handler: the server's own refusals (a body cut short) are answered here.
            await Problem(context, bad.StatusCode, "Bad request", bad.Message);
            return;
        }

        if (body is null)
        {
            await TooLarge(context, limit);
            return;
        }

        context.Items[BodyKey] = body;
        request.Body = new MemoryStream(body, writable: false);
        request.ContentLength = body.Length;
        request.Headers.Remove(HeaderNames.ContentEncoding);
        TakeWriteKey(request, body);
        await next(context);
    }

    /// <summary>The write key is the Basic-auth user name (the password is empty), else the body's `writeKey`.</summary>
    private static void TakeWriteKey(HttpRequest request, byte[] body)
    {
        if (request.Headers.ContainsKey(ApiKeySecrets.Header))
        {
            return;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.Remove(HeaderNames.Authorization);
            try
            {
                var userAndPassword = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
                var user = userAndPassword.Split(':', 2)[0];
                if (user.Length > 0)
                {
                    request.Headers[ApiKeySecrets.Header] = user;
                }
            }
            catch (FormatException)
            {
                // Not base64: no credentials, so the request is answered 401.
            }

            return;
        }

        if (authorization.Length == 0 && WriteKeyInBody(body) is { } key)
        {
            request.Headers[ApiKeySecrets.Header] = key;
        }
    }

    /// <summary>The root object's `writeKey`: a whole document of a batch body is not needed for it.</summary>
    private static string? WriteKeyInBody(byte[] body) => FieldReader.RootString(body, "writeKey"u8);

    private static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, long limit, CancellationToken cancellation)
    {
        await using var _ = body;
        return await BoundedBody.ReadAsync(body, declaredLength, limit, cancellation);
    }

    private static Task TooLarge(HttpContext context, long limit) => Problem(context, StatusCodes.Status413PayloadTooLarge, "Request too large",
        $"This body may be at most {limit} bytes once decompressed; split the batch or shrink the call.");

    private static Task Problem(HttpContext context, int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);

    /// <summary>Stops reading the compressed body at its own limit, so the wire is bounded too.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public sealed class TooLongException() : Exception("The compressed body exceeds its limit.");

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            return _read > limit ? throw new TooLongException() : read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the body asynchronously.");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
