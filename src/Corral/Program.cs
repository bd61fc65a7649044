using Corral.Cli;

return await CorralCommandLine.Create().Parse(args).InvokeAsync();
