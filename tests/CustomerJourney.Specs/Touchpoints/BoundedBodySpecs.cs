using CustomerJourney.Infrastructure;

namespace CustomerJourney.Specs.Touchpoints;

/// <summary>How a request body is buffered: whole, or refused when over its limit, whether its length is declared or not.</summary>
public sealed class BoundedBodySpecs
{
    private static byte[] Bytes(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i % 251))];

    /// <summary>The bytes read, copied out of the pooled buffer (given back at once), or null when refused.</summary>
    private static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, long limit)
    {
        using var read = await BoundedBody.ReadAsync(body, declaredLength, limit, TestContext.Current.CancellationToken);
        return read?.Memory.ToArray();
    }

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

        var read = await ReadAsync(new Trickle(body), declared ? body.Length : null, limit: 200_000);

        Assert.Equal(body, read);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_its_limit_is_refused(bool declared)
    {
        var body = Bytes(1_001);

        Assert.Null(await ReadAsync(new Trickle(body), declared ? body.Length : null, limit: 1_000));
    }

    [Fact]
    public async Task A_declared_body_longer_than_what_is_allocated_up_front_is_read_whole_as_it_arrives()
    {
        var body = Bytes((int)BoundedBody.PreallocatedBytes + 10);

        Assert.Equal(body, await ReadAsync(new Trickle(body), body.Length, limit: body.Length));
    }

    [Fact]
    public async Task A_body_that_ends_before_its_declared_length_is_what_arrived()
    {
        var body = Bytes(500);

        Assert.Equal(body, await ReadAsync(new Trickle(body), declaredLength: 800, limit: 1_000));
    }

    [Fact]
    public async Task An_empty_body_is_empty()
    {
        Assert.Empty((await ReadAsync(new MemoryStream(), declaredLength: 0, limit: 1_000))!);
        Assert.Empty((await ReadAsync(new MemoryStream(), declaredLength: null, limit: 1_000))!);
    }

    [Theory]
    [InlineData(300_000)]
    [InlineData(3_000_000)]
    public async Task An_undeclared_body_grows_its_buffer_as_it_arrives_and_ends_within_its_limit(int length)
    {
        var body = Bytes(length);

        Assert.Equal(body, await ReadAsync(new MemoryStream(body), declaredLength: null, limit: length));
        Assert.Null(await ReadAsync(new MemoryStream(body), declaredLength: null, limit: length - 1));
    }

    [Fact]
    public async Task A_body_given_back_to_the_pool_can_no_longer_be_read()
    {
        var read = await BoundedBody.ReadAsync(new MemoryStream(Bytes(10)), declaredLength: 10, limit: 1_000, TestContext.Current.CancellationToken);
        Assert.Equal(10, read!.Memory.Length);

        read.Dispose();

        Assert.Throws<ObjectDisposedException>(() => read.Memory);
    }
}
