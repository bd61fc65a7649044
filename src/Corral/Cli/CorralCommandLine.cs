using System.CommandLine;

namespace Corral.Cli;

/// <summary>The <c>corral</c> command line: serve, sim, demo, doctor, health.</summary>
internal static class CorralCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            """
            Corral: an authenticated gateway in front of one or many Ollama servers.
            It speaks Ollama's native API (at / and /ollama/) for the whole fleet: one URL and one key for every client.
            """);
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(SimCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(HealthCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        return root;
    }
}
