using System.Globalization;

namespace Load;

/// <summary>
/// The machine's disks as the kernel counts them (/sys/block/*/stat, loop and RAM-backed devices left out), each figure
/// summed over the disks: the milliseconds a disk was busy, the writes and their milliseconds, the cache flushes
/// (PostgreSQL's fsync at every commit ends in one) and their milliseconds. The differences between two snapshots say
/// how long a write or a flush took meanwhile: what a commit waits for when another process holds the disk.
/// </summary>
public sealed record DiskSnapshot(double BusyMs, double Writes, double WriteMs, double Flushes, double FlushMs)
{
    public static DiskSnapshot? Take()
    {
        try
        {
            var sum = new double[17];
            foreach (var disk in Directory.EnumerateDirectories("/sys/block").Where(d => !Path.GetFileName(d).StartsWith("loop", StringComparison.Ordinal) &&
                                                                                       !Path.GetFileName(d).StartsWith("zram", StringComparison.Ordinal) &&
                                                                                       !Path.GetFileName(d).StartsWith("ram", StringComparison.Ordinal)))
            {
                var fields = File.ReadAllText(Path.Combine(disk, "stat")).Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
                for (var i = 0; i < Math.Min(fields.Length, sum.Length); i++)
                {
                    sum[i] += fields[i];
                }
            }

            // Fields (Documentation/block/stat.rst): 5 writes, 8 write ticks, 10 io_ticks, 16 flushes, 17 flush ticks.
            return new DiskSnapshot(sum[9], sum[4], sum[7], sum[15], sum[16]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public static DiskSnapshot operator -(DiskSnapshot a, DiskSnapshot b) =>
        new(a.BusyMs - b.BusyMs, a.Writes - b.Writes, a.WriteMs - b.WriteMs, a.Flushes - b.Flushes, a.FlushMs - b.FlushMs);

    public double MeanWriteMs => Writes > 0 ? WriteMs / Writes : 0;

    public double MeanFlushMs => Flushes > 0 ? FlushMs / Flushes : 0;
}
