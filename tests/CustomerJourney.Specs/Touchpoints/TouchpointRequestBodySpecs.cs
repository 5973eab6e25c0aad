using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CsCheck;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Touchpoints;

/// <summary>
/// A batch body parsed value by value (ParseSplit) accepts and refuses what one document of it (Parse) does, and yields
/// the same items and properties.
/// </summary>
public sealed class TouchpointRequestBodySpecs
{
    private static readonly string[] Keys = ["a", "b", "\\u0061", "batch", "context", "sentAt", "\\ud800", "\\udc00"];

    /// <summary>JSON written from a list of choices: nested values, repeated and escaped names, nesting near the depth limit.</summary>
    private sealed class Choices(int[] values)
    {
        private int _next = 1;

        public int Next() => _next < values.Length ? values[_next++] : 0;
    }

    private static void Write(StringBuilder json, Choices choices, int depth)
    {
        int Next() => choices.Next();
        var kind = depth > 5 ? 4 + (Next() % 6) : Next() % 10;
        switch (kind)
        {
            case 0 or 1:
                json.Append('{');
                for (int i = 0, members = Next() % 4; i < members; i++)
                {
                    json.Append(i > 0 ? "," : "").Append('"').Append(Keys[Next() % Keys.Length]).Append("\":");
                    Write(json, choices, depth + 1);
                }

                json.Append('}');
                break;
            case 2 or 3:
                json.Append('[');
                for (int i = 0, items = Next() % 4; i < items; i++)
                {
                    json.Append(i > 0 ? ", " : "");
                    Write(json, choices, depth + 1);
                }

                json.Append(']');
                break;
            case 4:
                var nesting = 28 + (Next() % 8);
                json.Append(new string('[', nesting)).Append('1').Append(new string(']', nesting));
                break;
            case 5:
                json.Append("\"x\\u00e9\\ud800\"");
                break;
            case 6:
                json.Append("-0.5e3");
                break;
            case 7:
                json.Append("true");
                break;
            case 8:
                json.Append("null");
                break;
            default:
                json.Append("\"s\"");
                break;
        }
    }

    private static readonly Gen<string> Bodies = Gen.Int[0, 1_000].Array[1, 120].Select(choices =>
    {
        var json = new StringBuilder();
        var next = new Choices(choices);
        switch (choices[0] % 3)
        {
            case 0:
                json.Append("{\"batch\":[");
                Write(json, next, 1);
                json.Append(",{\"type\":\"track\"}],\"").Append(Keys[choices[^1] % Keys.Length]).Append("\":");
                Write(json, next, 1);
                json.Append('}');
                break;
            case 1:
                json.Append('[');
                Write(json, next, 1);
                json.Append(',');
                Write(json, next, 1);
                json.Append(']');
                break;
            default:
                Write(json, next, 0);
                break;
        }

        // One in four is spoiled: cut short, followed by more, given a comment or a trailing comma.
        var at = choices[^1] % (json.Length + 1);
        return (choices[0] / 3 % 8) switch
        {
            0 => json.ToString(0, at),
            1 => json.Append(" x").ToString(),
            2 => json.Insert(at, "/**/").ToString(),
            3 => json.Insert(at, ',').ToString(),
            _ => json.ToString(),
        };
    });

    /// <summary>A name's text, or null when one document cannot read it (an escaped lone surrogate): nothing can look it up.</summary>
    private static string? NameOf(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string Raw(JsonElement element) => Encoding.UTF8.GetString(JsonMarshal.GetRawUtf8Value(element));

    [Fact]
    public void Parsed_value_by_value_a_body_is_read_as_one_document_reads_it()
    {
        Bodies.Sample(text =>
        {
            var body = Encoding.UTF8.GetBytes(text);
            foreach (var itemsProperty in new[] { null, "batch" })
            {
                JsonDocument? document = null;
                SplitBody? split = null;
                try
                {
                    document = TouchpointRequestBody.Parse(body);
                }
                catch (JsonException)
                {
                }

                try
                {
                    split = TouchpointRequestBody.ParseSplit(body, itemsProperty);
                }
                catch (JsonException)
                {
                }

                using (document)
                {
                    Assert.Equal(document is null, split is null);
                    if (document is null || split is null)
                    {
                        continue;
                    }

                    var root = document.RootElement;
                    Assert.Equal(root.ValueKind, split.Kind);
                    var items = itemsProperty is null
                        ? root.ValueKind == JsonValueKind.Array ? root : (JsonElement?)null
                        : root.ValueKind == JsonValueKind.Object && root.TryGetProperty(itemsProperty, out var batch) && batch.ValueKind == JsonValueKind.Array
                            ? batch
                            : null;
                    Assert.Equal(items?.EnumerateArray().Select(Raw).ToList(), split.Items?.Select(Raw).ToList());
                    var properties = itemsProperty is not null && root.ValueKind == JsonValueKind.Object
                        ? root.EnumerateObject().Where(p => NameOf(p) is { } name && !(name == itemsProperty && items is not null)).ToDictionary(p => p.Name, p => Raw(p.Value))
                        : [];
                    Assert.Equal(properties, split.Properties.ToDictionary(p => p.Key, p => Raw(p.Value)));
                }
            }
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("{\"batch\":[],\"batch\":[]}")]
    [InlineData("{\"batch\":[],\"context\":{},\"context\":{}}")]
    [InlineData("{\"batch\":[{\"a\":1,\"\\u0061\":2}]}")]
    [InlineData("{\"batch\":[]} {}")]
    [InlineData("{\"batch\":[1,]}")]
    [InlineData("")]
    [InlineData("{\"batch\":[],\"\\udc00\":1}")]
    public void What_one_document_refuses_is_refused(string text)
    {
        var body = Encoding.UTF8.GetBytes(text);

        Assert.ThrowsAny<JsonException>(() => TouchpointRequestBody.Parse(body).Dispose());
        Assert.ThrowsAny<JsonException>(() => TouchpointRequestBody.ParseSplit(body, "batch"));
    }

    [Fact]
    public void The_items_and_the_other_properties_are_the_bodys_own()
    {
        var split = TouchpointRequestBody.ParseSplit("{\"context\":{\"ip\":\"1.2.3.4\"},\"batch\":[{\"type\":\"track\"},\"x\",2],\"sentAt\":\"2026-01-01T00:00:00Z\"}"u8.ToArray(), "batch");

        Assert.Equal(JsonValueKind.Object, split.Kind);
        Assert.Equal(["{\"type\":\"track\"}", "\"x\"", "2"], split.Items!.Select(Raw));
        Assert.Equal("1.2.3.4", split.Properties["context"].GetProperty("ip").GetString());
        Assert.Equal("2026-01-01T00:00:00Z", split.Properties["sentAt"].GetString());
        Assert.False(split.Properties.ContainsKey("batch"));
    }
}
