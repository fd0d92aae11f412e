package io.stratafs.sync.sim;

import org.junit.jupiter.api.Test;

/**
 * Schedules on which the simulation once found an engine bug, replayed on every run so the bug
 * stays fixed. Each names the seed it was found with and the engine commit that fixed it. A schedule
 * means the same history only while the simulation's steps choose the same way: a change to
 * {@link Workload} or {@link Simulation} that changes the choices must re-shrink these from a broken
 * engine (git show the commit before the fix) or drop them.
 */
class SimRegressionTest {

    /** Seed 301421, shrunk: a conflict copy of a file named like a conflict copy got two tags (fixed in 88e7665). */
    @Test
    void aConflictCopyNameHoldsOneTag() {
        Simulation.run(Schedule.decode("3/-3544078,-1927332,-3702865/S:0:0:db8a7b930dc0b25e,Y:0:0:9dafe39324ab5f5f,"
                + "O:1:2:4c667280b574253d,X:2:1:d21a4daaf341b509,O:0:2:ce532dd5321be69,O:0:1:3d3bee0780d53432,"
                + "Y:1:2:7231e9f1a48ff04a,O:0:1:37438acf6cca0cec,O:2:0:51e115741336cf17,O:2:0:f448d97f56ddce1e,"
                + "O:2:1:8220a124c1fb00ec"));
    }
}
