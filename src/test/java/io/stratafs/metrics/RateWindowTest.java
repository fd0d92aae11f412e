package io.stratafs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateWindowTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(5 * SECOND);
    private final RateWindow window = new RateWindow(now::get);

    @Test
    void theSecondUnderWayIsNotCountedUntilItEnds() {
        now.addAndGet(3 * SECOND);
        window.add(600);
        assertEquals(0, window.perSecond());
        now.addAndGet(SECOND);
        assertEquals(600.0 / 4, window.perSecond(), "600 bytes over the 4 whole seconds since start");
    }

    @Test
    void rateCoversTheLastTenWholeSeconds() {
        for (int s = 0; s < 30; s++) {
            window.add(s < 20 ? 1000 : 3000);
            now.addAndGet(SECOND);
        }
        assertEquals(3000, window.perSecond(), 1e-9);
        assertEquals(20 * 1000 + 10 * 3000, window.total());
    }

    @Test
    void rateFallsToZeroWhenTrafficStopsButTheTotalStays() {
        now.addAndGet(2 * SECOND);
        window.add(5000);
        now.addAndGet(11 * SECOND);
        assertEquals(0, window.perSecond());
        assertEquals(5000, window.total());
    }

    @Test
    void slotsReusedAfterAWrapDoNotCarryOldBytes() {
        window.add(7000);
        now.addAndGet(11 * SECOND);
        window.add(100);
        now.addAndGet(SECOND);
        assertEquals(100.0 / 10, window.perSecond(), 1e-9);
    }
}
