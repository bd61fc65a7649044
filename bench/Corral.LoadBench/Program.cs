using Corral.LoadBench;

return await LoadBenchmark.RunAsync(args);
