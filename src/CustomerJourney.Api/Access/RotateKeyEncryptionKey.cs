using JasperFx;
using JasperFx.CommandLine;

[assembly: JasperFxAssembly]

namespace CustomerJourney.Access;

public sealed class RotateKeyEncryptionKeyInput : NetCoreInput;

/// <summary>
/// Rotates the key-encryption key: a new KEK becomes current, every stored personal-data key is re-wrapped with it (no
/// event is touched), and the old KEKs are destroyed, so whatever they wrapped (keys of customers erased since, and every
/// copy in WAL and backups) can never be unwrapped again. Run it again after an interruption: it carries on.
/// </summary>
[Description("Rotates the personal-data key-encryption key: re-wraps every stored key, then destroys the old KEKs", Name = "rotate-kek")]
public sealed class RotateKeyEncryptionKeyCommand : JasperFxAsyncCommand<RotateKeyEncryptionKeyInput>
{
    public override async Task<bool> Execute(RotateKeyEncryptionKeyInput input)
    {
        using var host = input.BuildHost();
        var keys = host.Services.GetRequiredService<PostgresKeyStore>();
        var ring = host.Services.GetRequiredService<KeyEncryptionKeyRing>();
        var options = host.Services.GetRequiredService<IConfiguration>().GetSection("KeyEncryption").Get<KeyEncryptionOptions>() ?? new KeyEncryptionOptions();
        try
        {
            await KeyEncryptionKeyRotation.RunAsync(keys, ring, options.ReloadInterval, Console.Out, CancellationToken.None);
            return true;
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"rotate-kek: {e.Message}");
            return false;
        }
    }
}

/// <summary>The rotation's steps, callable from the command and from tests.</summary>
public static class KeyEncryptionKeyRotation
{
    public static async Task RunAsync(PostgresKeyStore keys, KeyEncryptionKeyRing ring, TimeSpan reloadInterval, TextWriter progress,
        CancellationToken cancellation)
    {
        await keys.EnsureCreatedAsync(cancellation);
        var directoryKeys = ring.HeldIds.Where(id => !id.StartsWith("cfg-", StringComparison.Ordinal)).ToList();
        if (ring.Directory is not null && directoryKeys.Count <= 1)
        {
            await progress.WriteLineAsync($"New key-encryption key {ring.CreateKey()}.");
        }
        else if (ring.Directory is not null)
        {
            // An earlier run stopped half-way: the newest KEK is already current, carry on with it.
            await progress.WriteLineAsync($"Resuming the rotation to {ring.CurrentId}.");
        }

        var target = ring.CurrentId;
        await RewrapAllAsync(keys, target, progress, cancellation);

        if (ring.Directory is not null)
        {
            // Other instances read the directory again within the reload interval; until then they may still wrap new
            // keys with the old KEK, so wait for them and sweep once more before the old KEK goes.
            await progress.WriteLineAsync($"Waiting {reloadInterval * 2} for every instance to adopt {target}.");
            await Task.Delay(reloadInterval * 2, cancellation);
            await RewrapAllAsync(keys, target, progress, cancellation);
        }

        await keys.CompactAsync(cancellation);
        foreach (var old in ring.HeldIds.Where(id => id != target).ToList())
        {
            if (old.StartsWith("cfg-", StringComparison.Ordinal))
            {
                await progress.WriteLineAsync($"Remove {old} from KeyEncryption:Key/RetiredKeys on every instance: nothing needs it now.");
            }
            else
            {
                ring.Destroy(old);
                await progress.WriteLineAsync($"Destroyed key-encryption key {old}.");
            }
        }

        await progress.WriteLineAsync($"Rotation complete: every stored key is wrapped by {target}.");
    }

    private static async Task RewrapAllAsync(PostgresKeyStore keys, string target, TextWriter progress, CancellationToken cancellation)
    {
        var remaining = (await keys.CountByKekAsync(cancellation)).Where(c => c.Key != target).Sum(c => c.Value);
        var done = 0L;
        while (await keys.RewrapBatchAsync(cancellation) is var batch and > 0)
        {
            done += batch;
            await progress.WriteLineAsync($"Re-wrapped {done} of {remaining} keys.");
        }
    }
}
