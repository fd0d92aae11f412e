package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BandwidthLimitTest {
    static final long SECOND = 1_000_000_000L;

    @Test
    void aFullBucketPaysForOneSecondThenEachCallerWaitsForItsBytes() throws Exception {
        AtomicLong now = new AtomicLong(5 * SECOND);
        List<Long> sleeps = new ArrayList<>();
        BandwidthLimit limit = BandwidthLimit.of(1000, now::get, nanos -> {
            sleeps.add(nanos);
            now.addAndGet(nanos);
        });
        limit.acquire(1000);
        assertEquals(List.of(), sleeps, "one second of the rate goes at once");
        limit.acquire(250);
        limit.acquire(500);
        assertEquals(List.of(SECOND / 4, SECOND / 2), sleeps);
        assertEquals(5 * SECOND + 3 * SECOND / 4, now.get(), "1750 bytes at 1000 bytes/s end 0.75 s after the first second");
    }

    @Test
    void aQuietLinkEarnsAtMostOneSecondOfTheRate() throws Exception {
        AtomicLong now = new AtomicLong();
        List<Long> sleeps = new ArrayList<>();
        BandwidthLimit limit = BandwidthLimit.of(1000, now::get, sleeps::add);
        limit.acquire(1000);
        now.addAndGet(60 * SECOND);
        limit.acquire(1000);
        limit.acquire(1000);
        assertEquals(List.of(SECOND), sleeps, "a minute of silence is not a minute of credit");
    }

    @Test
    void threadsShareOneBucketAndEachWaitsItsTurn() throws Exception {
        List<Long> sleeps = Collections.synchronizedList(new ArrayList<>());
        BandwidthLimit limit = BandwidthLimit.of(1000, () -> 0L, sleeps::add);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 4; i++) {
                        limit.acquire(250);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        List<Long> sorted = new ArrayList<>(sleeps);
        Collections.sort(sorted);
        List<Long> expected = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            expected.add(i * SECOND / 4);
        }
        assertEquals(expected, sorted, "4000 bytes at 1000 bytes/s: the last caller starts 3 s in, whoever it is");
    }

    @Test
    void noLimitNeverWaits() throws Exception {
        assertSame(BandwidthLimit.NONE, BandwidthLimit.of(0));
        BandwidthLimit.NONE.acquire(Long.MAX_VALUE);
        assertEquals(0, BandwidthLimit.NONE.bytesPerSecond());
    }

    @Test
    void theOptionTakesSizesPerSecond() {
        assertEquals(10L << 20, BandwidthLimit.parse("--sync-bandwidth", "10M"));
        assertEquals(10L << 20, BandwidthLimit.parse("--sync-bandwidth", "10M/s"));
        assertEquals(512L << 10, BandwidthLimit.parse("--sync-bandwidth", "512k"));
        assertEquals(1_000_000, BandwidthLimit.parse("--sync-bandwidth", "1000000"));
        assertEquals(0, BandwidthLimit.parse("--sync-bandwidth", "0"));
    }

    @Test
    void aBadValueIsNamedWithTheOptionAndTheFix() {
        for (String bad : new String[] {"fast", "-5M", "", "10X", "M"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BandwidthLimit.parse("--sync-bandwidth", bad));
            assertEquals("invalid --sync-bandwidth \"" + bad + "\": give bytes per second with an optional K, M or G suffix, e.g. 10M; 0 means no limit",
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BandwidthLimit.of(-1));
        assertTrue(e.getMessage().startsWith("a bandwidth limit cannot be negative"), e.getMessage());
    }
}
