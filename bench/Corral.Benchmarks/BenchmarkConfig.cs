using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Corral.Benchmarks;

/// <summary>
/// Garnet's BDN base config, trimmed to one runtime: workstation, non-concurrent GC so that
/// <see cref="MemoryDiagnoser"/> reports allocations deterministically. Tiered PGO stays on (unlike Garnet):
/// Corral ships with it on, and it is what the gateway runs. The GC settings are a mutator: they apply to
/// whichever job runs, so command-line options such as <c>--job short</c> still choose the job.
/// </summary>
internal sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddJob(Job.Default.WithGcServer(false).WithGcConcurrent(false).AsMutator());
    }
}
