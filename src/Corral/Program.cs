using Corral.Cli;

// Run socket completions on the epoll threads instead of hopping to the thread pool, and stop idle
// thread-pool workers from spinning: with clients, Corral and backends sharing a few cores, those hops and
// spins cost more than the work (measured: non-streaming chat at c=64 went from ~0.55x to ~0.7x of an nginx
// proxy's throughput on 2 cores). Corral's request path never blocks a thread, which inline completions
// require. Both must be set before the first socket is created; an explicit setting wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

return await CorralCommandLine.Create().Parse(args).InvokeAsync();
