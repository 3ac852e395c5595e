using Rosetta.App.Hosting;

// The whole host is assembled in RosettaHost so tests start the real app (WebApplicationFactory)
// with the same services and pipeline as production.
var app = RosettaHost.Build(args);
await app.RunAsync();

/// <summary>Entry point; public so tests can reference it.</summary>
public partial class Program;
