using System.Buffers;

namespace CustomerJourney.Infrastructure;

/// <summary>Reads a request body into memory within a byte limit: how the touchpoint endpoints and /v1/* buffer a body.</summary>
public static class BoundedBody
{
    private const int FirstChunkBytes = 64 * 1024;

    /// <summary>
    /// Up to this declared length a body is read into one buffer of its size up front (a batch of 5,000 touchpoints is about
    /// 1.5 MiB). A longer one grows as it arrives, so a slow client that merely declares a large body holds little.
    /// </summary>
    public const long PreallocatedBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The body's bytes in a pooled buffer (dispose it when the request is done with them), or null when the body is longer
    /// than <paramref name="limit"/>. Batch bodies are large objects: a new array per body was garbage only a full collection
    /// frees, several megabytes a second under batch ingest (bench/README.md), so the buffers come from the shared pool.
    /// </summary>
    public static async Task<PooledBody?> ReadAsync(Stream body, long? declaredLength, long limit, CancellationToken cancellation)
    {
        if (declaredLength > limit)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(declaredLength is { } length and <= PreallocatedBytes ? Math.Max(1, (int)length) : FirstChunkBytes);
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    if (declaredLength is { } declared && filled >= declared)
                    {
                        // The server holds the body to its declared length: nothing more will come.
                        break;
                    }

                    buffer = Grow(buffer, filled);
                }

                var read = await body.ReadAsync(buffer.AsMemory(filled), cancellation);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                if (filled > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new PooledBody(buffer, filled);
    }

    private static byte[] Grow(byte[] buffer, int filled)
    {
        var larger = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
        buffer.AsSpan(0, filled).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}

/// <summary>A body read into a buffer of the shared pool; disposing it gives the buffer back, after which it must not be read.</summary>
public sealed class PooledBody : IDisposable
{
    private byte[]? _buffer;

    internal PooledBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

    /// <summary>The bytes as a read-only stream, for what reads the request's body again.</summary>
    public Stream AsStream() => new MemoryStream(Buffer, 0, Length, writable: false);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PooledBody));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
