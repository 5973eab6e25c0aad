using CustomerJourney.MailSink;

// Usage: CustomerJourney.MailSink [port] [directory]. Runs until stopped; one .eml per distinct Message-ID in the directory.
var port = args.Length > 0 && int.TryParse(args[0], out var p) ? p : 2525;
var directory = args.Length > 1 ? args[1] : Path.Combine(Environment.CurrentDirectory, ".local", "mail");
await using var sink = new SmtpSink(port, directory).Start();
Console.WriteLine($"Mail sink on 127.0.0.1:{port}, keeping one copy per Message-ID in {directory}");
var stopped = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopped.TrySetResult();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stopped.TrySetResult();
await stopped.Task;
