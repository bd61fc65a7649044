using Corral.Doctor;

namespace Corral.Cli;

/// <summary>The <c>--container</c> part of <c>corral doctor</c>'s report for a person, laid out as the URLs' checks are.</summary>
internal static class ContainerReportText
{
    public static void Print(ContainerReport report, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"container {report.Name}{(report.Tool is { } tool ? $" ({tool})" : string.Empty)}: {DoctorCommand.Word(report.Status)}");
        foreach (var check in report.Checks)
        {
            DoctorCommand.Print(check, output);
        }

        if (report.Recreate.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"To give {report.Name} {report.Recommendation}, run:");
            foreach (var command in report.Recreate)
            {
                output.WriteLine($"  {command}");
            }
        }
    }
}
