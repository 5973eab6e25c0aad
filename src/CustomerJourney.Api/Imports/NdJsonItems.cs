using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.Imports;

/// <summary>One non-blank line of an NDJSON stream: its 0-based position among the items, its bytes, or why it was cut.</summary>
public readonly record struct NdJsonLine(long Index, byte[]? Bytes, string? TooLong);

/// <summary>Reads an NDJSON stream line by line, holding one buffer and the current line: never the whole body.</summary>
public static class NdJsonItems
{
    public static async IAsyncEnumerable<NdJsonLine> ReadAsync(Stream body, long maxLineBytes, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 256 * 1024));
        var index = 0L;
        var skipping = false;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellation);
                var buffer = read.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (skipping)
                    {
                        // The rest of a line that was already reported as too long.
                        skipping = false;
                        continue;
                    }

                    if (ToItem(line, maxLineBytes, ref index) is { } item)
                    {
                        yield return item;
                    }
                }

                if (read.IsCompleted)
                {
                    if (!skipping && ToItem(buffer, maxLineBytes, ref index) is { } last)
                    {
                        yield return last;
                    }

                    yield break;
                }

                if (!skipping && buffer.Length > maxLineBytes)
                {
                    yield return new NdJsonLine(index++, null, $"a line may be at most {maxLineBytes} bytes.");
                    skipping = true;
                }

                // A line too long is dropped as it streams in, so it never fills memory either.
                reader.AdvanceTo(skipping ? buffer.End : buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    /// <summary>
    /// The line's top-level <c>customerId</c> string, read without building a document (where the import cuts its chunks);
    /// null when there is none or the line is not JSON (the chunk's validation says why).
    /// </summary>
    public static string? CustomerIdOf(NdJsonLine line) => line.Bytes is null ? null : FieldReader.RootString(line.Bytes, "customerId"u8);

    private static NdJsonLine? ToItem(ReadOnlySequence<byte> line, long maxLineBytes, ref long index)
    {
        if (line.Length > maxLineBytes)
        {
            return new NdJsonLine(index++, null, $"a line may be at most {maxLineBytes} bytes.");
        }

        var bytes = line.ToArray();
        // A blank line (or the final newline) is not an item, as in a batch.
        return bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) < 0 ? null : new NdJsonLine(index++, bytes, null);
    }
}
