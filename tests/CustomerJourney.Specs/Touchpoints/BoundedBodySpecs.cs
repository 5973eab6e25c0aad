using CustomerJourney.Infrastructure;

namespace CustomerJourney.Specs.Touchpoints;

/// <summary>How a request body is buffered: whole, or refused when over its limit, whether its length is declared or not.</summary>
public sealed class BoundedBodySpecs
{
    private static byte[] Bytes(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i % 251))];

    /// <summary>Hands out at most a few bytes per read, as a network stream does.</summary>
    private sealed class Trickle(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 7)], cancellationToken);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_within_its_limit_is_read_whole_however_it_trickles_in(bool declared)
    {
        var body = Bytes(200_000);

        var read = await BoundedBody.ReadAsync(new Trickle(body), declared ? body.Length : null, limit: 200_000, TestContext.Current.CancellationToken);

        Assert.Equal(body, read);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_its_limit_is_refused(bool declared)
    {
        var body = Bytes(1_001);

        Assert.Null(await BoundedBody.ReadAsync(new Trickle(body), declared ? body.Length : null, limit: 1_000, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_declared_body_longer_than_what_is_allocated_up_front_is_read_whole_as_it_arrives()
    {
        var body = Bytes((int)BoundedBody.PreallocatedBytes + 10);

        Assert.Equal(body, await BoundedBody.ReadAsync(new Trickle(body), body.Length, limit: body.Length, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_body_that_ends_before_its_declared_length_is_what_arrived()
    {
        var body = Bytes(500);

        Assert.Equal(body, await BoundedBody.ReadAsync(new Trickle(body), declaredLength: 800, limit: 1_000, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_empty_body_is_empty()
    {
        Assert.Empty((await BoundedBody.ReadAsync(new MemoryStream(), declaredLength: 0, limit: 1_000, TestContext.Current.CancellationToken))!);
        Assert.Empty((await BoundedBody.ReadAsync(new MemoryStream(), declaredLength: null, limit: 1_000, TestContext.Current.CancellationToken))!);
    }
}
