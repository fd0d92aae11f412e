package io.stratafs.sync.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Makes a failing schedule small while it still fails: first fewer sites, then fewer steps,
 * dropping runs of steps from half the schedule down to single steps (delta debugging), and again
 * until nothing more can go. Bounded by a number of tries, so a slow failure still ends.
 */
final class Shrinker {
    private final Predicate<Schedule> stillFails;
    private final int maxTries;
    private int tries;

    /** {@code stillFails} runs a candidate and says whether it fails the same way as the original. */
    Shrinker(Predicate<Schedule> stillFails, int maxTries) {
        this.stillFails = stillFails;
        this.maxTries = maxTries;
    }

    Schedule shrink(Schedule failing) {
        Schedule s = failing;
        boolean progress = true;
        while (progress && tries < maxTries) {
            progress = false;
            for (int victim = s.sites() - 1; victim >= 0 && s.sites() > 1; victim--) {
                Schedule t = s.withoutSite(victim);
                if (fails(t)) {
                    s = t;
                    progress = true;
                }
            }
            for (int chunk = Math.max(1, s.steps().size() / 2); chunk >= 1; chunk /= 2) {
                int start = 0;
                while (start + chunk <= s.steps().size() && tries < maxTries) {
                    List<Schedule.Step> fewer = new ArrayList<>(s.steps());
                    fewer.subList(start, start + chunk).clear();
                    Schedule t = s.withSteps(fewer);
                    if (fails(t)) {
                        s = t;
                        progress = true;
                    } else {
                        start += chunk;
                    }
                }
            }
        }
        return s;
    }

    /** How many candidate schedules were run. */
    int tries() {
        return tries;
    }

    private boolean fails(Schedule s) {
        if (tries >= maxTries) {
            return false;
        }
        tries++;
        return stillFails.test(s);
    }
}
