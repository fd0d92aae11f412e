package io.stratafs.sync.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The seeded multi-site simulation (in the spirit of "Testing sync at Dropbox", 2020): thousands of
 * schedules of 3 or 4 sites with random operations, reordered, duplicated, lost and late
 * deliveries, partitions, crashes with restarts from older state, and skewed clocks; every one must
 * converge (see {@link Checks}). A failing schedule is printed with its seed, shrunk, and printed
 * again as a replayable line.
 *
 * <p>System properties: {@code stratafs.sim.schedules} (default 2000), {@code stratafs.sim.steps}
 * (steps per schedule, default 60), {@code stratafs.sim.firstSeed} (default 1); to replay,
 * {@code stratafs.sim.seed} (one seed) or {@code stratafs.sim.schedule} (an encoded, shrunk schedule).
 */
class MultiSiteSimTest {
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    @Test
    void everyScheduleConverges() {
        int schedules = (int) property("stratafs.sim.schedules", 2000, 1);
        long firstSeed = property("stratafs.sim.firstSeed", 1, Long.MIN_VALUE);
        String encoded = System.getProperty("stratafs.sim.schedule");
        Long seed = System.getProperty("stratafs.sim.seed") == null ? null : property("stratafs.sim.seed", 0, Long.MIN_VALUE);
        if (encoded != null) {
            runOrShrink("schedule " + encoded, Schedule.decode(encoded));
            return;
        }
        if (seed != null) {
            runOrShrink("seed " + seed, Schedule.generate(seed, steps()));
            return;
        }
        long start = System.nanoTime();
        long cpuStart = CPU.getCurrentThreadCpuTime();
        Map<String, Long> counts = new TreeMap<>();
        for (long s = firstSeed; s < firstSeed + schedules; s++) {
            Simulation.Outcome o = runOrShrink("seed " + s, Schedule.generate(s, steps()));
            o.counts().forEach((k, v) -> counts.merge(k, (long) v, Long::sum));
        }
        double secs = (System.nanoTime() - start) / 1e9;
        double cpu = (CPU.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        // CPU time too: on a shared machine the wall clock says more about the neighbours than about us
        System.out.printf("multi-site simulation: %d schedules of %d steps (seeds %d..%d) in %.1f s (%.1f s CPU): "
                        + "%.0f schedules/s (%.0f per CPU second)%n  %s%n", schedules, steps(), firstSeed,
                firstSeed + schedules - 1, secs, cpu, schedules / secs, schedules / cpu, counts);
    }

    @Test
    void sameSeedGivesSameTraceAndTrees() {
        long firstSeed = property("stratafs.sim.firstSeed", 1, Long.MIN_VALUE);
        for (long s = firstSeed; s < firstSeed + 20; s++) {
            Schedule schedule = Schedule.generate(s, steps());
            Simulation.Outcome first = Simulation.run(schedule);
            Simulation.Outcome second = Simulation.run(Schedule.generate(s, steps()));
            assertEquals(first.trace(), second.trace(), "trace of seed " + s);
            assertEquals(first.digests(), second.digests(), "trees of seed " + s);
        }
    }

    private static Simulation.Outcome runOrShrink(String what, Schedule schedule) {
        try {
            return Simulation.run(schedule);
        } catch (SimFailure f) {
            System.out.println("multi-site simulation: " + what + " (" + schedule.sites() + " sites, "
                    + schedule.steps().size() + " steps) fails: " + f.getMessage());
            System.out.println("replay: mvn -o -B test -Dtest=MultiSiteSimTest#everyScheduleConverges " + replayArgs(what));
            Shrinker shrinker = new Shrinker(candidate -> failsTheSameWay(candidate, f.check), 1500);
            Schedule small = shrinker.shrink(schedule);
            String message;
            try {
                Simulation.run(small);
                message = "the shrunk schedule passed (a failure that depends on more than the schedule)";
            } catch (SimFailure g) {
                message = g.getMessage();
                System.out.println("trace of the shrunk schedule:\n" + g.trace);
            }
            System.out.println("shrunk in " + shrinker.tries() + " runs to " + small.sites() + " sites, "
                    + small.steps().size() + " steps: " + message);
            System.out.println("replay: mvn -o -B test -Dtest=MultiSiteSimTest#everyScheduleConverges "
                    + "-Dstratafs.sim.schedule='" + small.encode() + "'");
            throw new AssertionError(what + " fails: " + f.getMessage() + "\nshrunk: -Dstratafs.sim.schedule='"
                    + small.encode() + "'\n" + message, f);
        }
    }

    private static int steps() {
        return (int) property("stratafs.sim.steps", 60, 0);
    }

    /** A numeric system property, refused with a sentence when it is not a number of at least {@code min}. */
    static long property(String name, long otherwise, long min) {
        String v = System.getProperty(name);
        if (v == null) {
            return otherwise;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below, with the same sentence as a number out of range
        }
        throw new IllegalArgumentException("-D" + name + " must be a whole number" + (min > Long.MIN_VALUE ? " of at least " + min : "")
                + ", not \"" + v + "\"");
    }

    private static String replayArgs(String what) {
        return what.startsWith("seed ") ? "-Dstratafs.sim.seed=" + what.substring(5) + " -Dstratafs.sim.steps=" + steps()
                : "-Dstratafs.sim.schedule='" + what.substring(9) + "'";
    }

    private static boolean failsTheSameWay(Schedule candidate, String check) {
        try {
            Simulation.run(candidate);
            return false;
        } catch (SimFailure g) {
            return g.check.equals(check);
        }
    }
}
