package io.stratafs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void eachDurationLandsInTheFirstBucketWhoseBoundHoldsIt() {
        LatencyHistogram h = new LatencyHistogram();
        h.observeNanos(0);
        h.observeNanos(25_000);
        h.observeNanos(25_001);
        h.observeNanos(3_000_000);
        h.observeNanos(60_000_000_000L);
        long[] counts = h.bucketCounts();
        assertEquals(LatencyHistogram.BOUNDS.length + 1, counts.length);
        assertEquals(2, counts[0], "0 and exactly 25 µs are <= 0.000025 s");
        assertEquals(1, counts[1], "just over 25 µs goes to the 50 µs bucket");
        assertEquals(1, counts[indexOf(0.005)], "3 ms goes to the 5 ms bucket");
        assertEquals(1, counts[counts.length - 1], "a minute goes to +Inf");
        assertEquals(5, h.count());
        assertEquals((25_000 + 25_001 + 3_000_000 + 60_000_000_000L) / 1e9, h.sumSeconds(), 1e-12);
    }

    private static int indexOf(double bound) {
        for (int i = 0; i < LatencyHistogram.BOUNDS.length; i++) {
            if (LatencyHistogram.BOUNDS[i] == bound) {
                return i;
            }
        }
        throw new AssertionError("no bound " + bound);
    }
}
