package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PollScheduleTest {
    long now = 1_000_000;
    final PollSchedule schedule = new PollSchedule(() -> now);

    /** Polls as a poller would, for {@code millis}, and returns the delays it waited. */
    List<Long> run(long millis, boolean moved) {
        List<Long> delays = new ArrayList<>();
        long end = now + millis;
        while (now < end) {
            long d = schedule.delayMillis();
            delays.add(d);
            now += d;
            schedule.polled(moved);
        }
        return delays;
    }

    @Test
    void theFirstPollIsDueAtOnceAndAnActivePeerIsPolledFast() {
        assertEquals(0, schedule.delayMillis());
        List<Long> delays = run(60_000, true);
        assertTrue(delays.subList(1, delays.size()).stream().allMatch(d -> d == PollSchedule.FAST_MILLIS), delays.toString());
    }

    @Test
    void aQuietPeerIsPolledLessOftenUpToTheMaximum() {
        schedule.polled(true);
        List<Long> delays = run(15 * 60_000, false);
        for (int i = 1; i < delays.size(); i++) {
            assertTrue(delays.get(i) >= delays.get(i - 1), "never faster while quiet: " + delays);
        }
        assertEquals(PollSchedule.FAST_MILLIS, delays.get(1));
        assertEquals(PollSchedule.MAX_MILLIS, delays.get(delays.size() - 1));
        // 20 s after the last change the wait is a twentieth of it
        PollSchedule s = new PollSchedule(() -> now);
        long start = now;
        now = start + 20_000;
        s.polled(false);
        assertEquals(1_000, s.delayMillis());
        now = start + 10 * 60_000;
        s.polled(false);
        assertEquals(PollSchedule.MAX_MILLIS, s.delayMillis());
    }

    @Test
    void activityOrANudgeBringsTheFastPaceBack() {
        run(10 * 60_000, false);
        assertEquals(PollSchedule.MAX_MILLIS, schedule.delayMillis());
        now += PollSchedule.MAX_MILLIS * 3 / 10; // activity 30% into the slowest wait
        schedule.activity();
        assertEquals(PollSchedule.FAST_MILLIS, schedule.delayMillis());
        schedule.polled(false);
        assertEquals(PollSchedule.FAST_MILLIS, schedule.delayMillis());

        run(10 * 60_000, false);
        now += 4_000;
        schedule.nudged();
        assertEquals(0, schedule.delayMillis());
        now += 40;
        schedule.polled(true);
        assertEquals(PollSchedule.FAST_MILLIS, schedule.delayMillis());
    }

    @Test
    void anIdleHourCostsAboutAPollPerMaximumInterval() {
        schedule.polled(true);
        int polls = run(3_600_000, false).size();
        int floor = (int) (3_600_000 / PollSchedule.MAX_MILLIS);
        assertTrue(polls > floor && polls < floor + 120, "polls in an idle hour: " + polls);
    }

    @Test
    void badSettingsAreRefusedWithTheirValues() {
        assertEquals("a poll schedule needs 1 ms <= fast (500 ms) <= max (100 ms) and a quiet ratio of at least 1 (20)",
                assertThrows(IllegalArgumentException.class, () -> new PollSchedule(() -> 0, 500, 100, 20)).getMessage());
    }
}
