package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness itself: nothing a command starts outlives it, also when the command fails. */
class ShellIT {
    @TempDir
    Path dir;

    @Test
    void aFailingScriptLeavesNoBackgroundJobRunning() {
        Shell.Result r = Shell.run(dir, 30, List.of("bash", "-c", "sleep 300 & echo $!; exit 3"));
        assertEquals(3, r.exit(), r.out());
        assertFalse(Shell.running(Long.parseLong(r.out().trim())), "the script's background sleep outlived it");
    }

    @Test
    void closingABackgroundCommandStopsWhatItStarted() throws Exception {
        Path log = dir.resolve("out");
        long child;
        try (Shell.Background b = Shell.background(dir, log, List.of("bash", "-c", "sleep 300 & echo $!; wait"))) {
            long deadline = System.currentTimeMillis() + 10_000;
            while (b.output().isBlank()) {
                assertTrue(System.currentTimeMillis() < deadline, "the command never printed its child's pid");
                assertTrue(b.isAlive(), b.output());
                b.waitFor(20, TimeUnit.MILLISECONDS);
            }
            child = Long.parseLong(Files.readString(log).trim());
            assertTrue(Shell.running(child));
        }
        assertFalse(Shell.running(child), "the background command's child outlived close()");
    }
}
