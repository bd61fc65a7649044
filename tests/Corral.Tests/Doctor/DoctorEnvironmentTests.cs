using Corral.Doctor;

namespace Corral.Tests.Doctor;

public sealed class DoctorEnvironmentTests
{
    [Fact]
    public void Gateway_TheDefaultRoutesGatewayFromProcNetRoute()
    {
        const string Routes = """
            Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
            eth0	00000000	0100A8C0	0003	0	0	0	00000000	0	0	0
            eth0	0000A8C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
            """;

        DoctorEnvironment.Gateway(Routes).Should().Be("192.168.0.1");
        DoctorEnvironment.Gateway("Iface\tDestination\tGateway\n").Should().BeNull();
    }

    [Fact]
    public void Detect_ContainerMarkersAndWsl_FromTheFiles()
    {
        var root = Path.Combine(Path.GetTempPath(), "corral-ut-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "run"));
        Directory.CreateDirectory(Path.Combine(root, "proc", "net"));
        File.WriteAllText(Path.Combine(root, "run", ".containerenv"), "");
        File.WriteAllText(Path.Combine(root, "proc", "version"), "Linux version 5.15.153.1-microsoft-standard-WSL2");
        try
        {
            var environment = DoctorEnvironment.Detect(root, _ => null);

            environment.Should().Be(new DoctorEnvironment(Docker: false, Podman: true, Wsl: true, Kubernetes: false, DefaultGateway: null));
            environment.InContainer.Should().BeTrue();
            DoctorEnvironment.Detect(root, name => name == "KUBERNETES_SERVICE_HOST" ? "10.96.0.1" : null).Kubernetes.Should().BeTrue();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Detect_AContainerThatSeesTheHostsBridge_SharesTheHostsNetwork()
    {
        var root = Path.Combine(Path.GetTempPath(), "corral-ut-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "sys", "class", "net", "docker0"));
        try
        {
            DoctorEnvironment.Detect(root, _ => null).HostNetwork.Should().BeFalse("not in a container: the host itself");
            File.WriteAllText(Path.Combine(root, ".dockerenv"), "");
            DoctorEnvironment.Detect(root, _ => null).Should().Match<DoctorEnvironment>(e => e.Docker && e.HostNetwork);
            Directory.Delete(Path.Combine(root, "sys", "class", "net", "docker0"));
            DoctorEnvironment.Detect(root, _ => null).HostNetwork.Should().BeFalse("a container's own network has no docker0");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
