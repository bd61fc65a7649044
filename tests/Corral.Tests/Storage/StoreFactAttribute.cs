using Xunit.Abstractions;
using Xunit.Sdk;

namespace Corral.Tests.Storage;

/// <summary>
/// A fact of a store contract: run on every store that derives from the contract, and reported as skipped, not
/// passed, in a class marked <see cref="PostgresStoreTestsAttribute"/> where there is no PostgreSQL server to run on
/// (the attribute is on the contract's method, so only the discoverer sees which class it runs in).
/// </summary>
[XunitTestCaseDiscoverer("Corral.Tests.Storage.StoreFactDiscoverer", "Corral.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>Marks the tests of a contract on the PostgreSQL store (see <see cref="StoreFactAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PostgresStoreTestsAttribute : Attribute;

/// <summary>Finds <see cref="StoreFactAttribute"/> facts: skipped ones where the class needs PostgreSQL and there is none.</summary>
public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _diagnosticMessageSink = diagnosticMessageSink;

    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        if (testMethod.TestClass.Class.GetCustomAttributes(typeof(PostgresStoreTestsAttribute)).Any() && TestPostgres.SkipReason is { } reason)
        {
            return [new XunitSkippedDataRowTestCase(_diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason)];
        }

        return base.Discover(discoveryOptions, testMethod, factAttribute);
    }
}
