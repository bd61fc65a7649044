using Corral.Usage;

namespace Corral.Tests.Usage;

public sealed class LogHistogramTests
{
    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.999, 0)]
    [InlineData(1.0, 1)]
    [InlineData(1.04, 1)]
    [InlineData(1.0501, 2)]
    [InlineData(600_000_000.0, 415)]
    [InlineData(double.MaxValue, LogHistogram.MaxBucket)]
    public void BucketOf_Microseconds_LogBucketOfRatio105(double microseconds, int bucket)
    {
        LogHistogram.BucketOf(microseconds).Should().Be(bucket);
    }

    [Fact]
    public void MiddleOf_EveryValueOfItsBucket_WithinTwoAndAHalfPercent()
    {
        for (var value = 1.0; value < 1e9; value *= 1.013)
        {
            var middle = LogHistogram.MiddleOf(LogHistogram.BucketOf(value));
            (Math.Abs(middle - value) / value).Should().BeLessThan(0.025, $"{value} µs");
        }
    }

    [Fact]
    public void QuantileMilliseconds_SkewedDurations_MedianWithinTwoAndAHalfPercent()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 20_001).Select(_ => Math.Exp(random.NextDouble() * 10) * 3).ToArray();
        var histogram = new LogHistogram();
        foreach (var value in values)
        {
            histogram.AddMilliseconds(value);
        }

        var median = values.Order().ElementAt(10_000);
        var estimate = histogram.QuantileMilliseconds(0.5)!.Value;

        (Math.Abs(estimate - median) / median).Should().BeLessThan(0.025);
        histogram.Count.Should().Be(20_001);
    }

    [Fact]
    public void QuantileMilliseconds_Nothing_Null()
    {
        new LogHistogram().QuantileMilliseconds(0.5).Should().BeNull();
    }

    [Fact]
    public void MergeEncoded_EncodedHalves_SameAsOneHistogramOfAll()
    {
        var all = new LogHistogram();
        var first = new LogHistogram();
        var second = new LogHistogram();
        var random = new Random(3);
        for (var i = 0; i < 5000; i++)
        {
            var ms = Math.Exp(random.NextDouble() * 14) / 100;
            all.AddMilliseconds(ms);
            (i % 3 == 0 ? first : second).AddMilliseconds(ms);
        }

        var merged = new LogHistogram();
        merged.MergeEncoded(first.Encode());
        merged.MergeEncoded(second.Encode());

        merged.Encode().Should().Equal(all.Encode());
        foreach (var q in new[] { 0.01, 0.5, 0.9, 0.99, 1 })
        {
            merged.QuantileMilliseconds(q).Should().Be(all.QuantileMilliseconds(q));
        }
    }

    [Theory]
    [InlineData(100, 120, 50, 80)]
    [InlineData(100, 120, 110, 300)]
    [InlineData(100, 120, 30, 400)]
    [InlineData(100, 120, 105, 110)]
    public void Merge_RangesBelowAboveAroundOrInside_SameAsOneHistogramOfAll(int firstFrom, int firstTo, int otherFrom, int otherTo)
    {
        var first = new LogHistogram();
        var other = new LogHistogram();
        var all = new LogHistogram();
        for (var bucket = firstFrom; bucket <= firstTo; bucket += 3)
        {
            first.Add(bucket, bucket);
            all.Add(bucket, bucket);
        }

        for (var bucket = otherFrom; bucket <= otherTo; bucket += 7)
        {
            other.Add(bucket, 2);
            all.Add(bucket, 2);
        }

        first.Merge(other);

        first.Encode().Should().Equal(all.Encode());
        first.Count.Should().Be(all.Count);
    }

    [Fact]
    public void Add_LowerBucketAfterHigherOnes_KeepsEveryCount()
    {
        var histogram = new LogHistogram();
        histogram.Add(300, 2);
        histogram.Add(310, 1);
        histogram.Add(5, 4);
        histogram.Add(400, 1);

        var copy = new LogHistogram();
        copy.MergeEncoded(histogram.Encode());

        copy.Count.Should().Be(8);
        copy.QuantileMilliseconds(0.5).Should().Be(LogHistogram.MiddleOf(5) / 1000);
        copy.QuantileMilliseconds(0.75).Should().Be(LogHistogram.MiddleOf(300) / 1000);
        copy.QuantileMilliseconds(1).Should().Be(LogHistogram.MiddleOf(400) / 1000);
    }

    [Fact]
    public void Encode_SparseBuckets_AFewBytesEach()
    {
        var histogram = new LogHistogram();
        histogram.AddMilliseconds(2);
        histogram.AddMilliseconds(2);
        histogram.AddMilliseconds(1500);

        histogram.Encode().Length.Should().BeLessThan(10);
    }

    [Fact]
    public void MergeEncoded_EmptyOrUnknownFormat_AddsNothing()
    {
        var histogram = new LogHistogram();
        histogram.MergeEncoded([]);
        histogram.MergeEncoded([99, 1, 1]);

        histogram.Count.Should().Be(0);
    }
}
