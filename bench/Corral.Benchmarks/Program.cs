using BenchmarkDotNet.Running;
using Corral.Benchmarks;

// dotnet run -c Release --project bench/Corral.Benchmarks -- --filter '*'   (see bench/README.md)
BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args, new BenchmarkConfig());
