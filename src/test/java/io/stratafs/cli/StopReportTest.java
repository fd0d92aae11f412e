package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.config.VolumeRecord;
import io.stratafs.store.MemoryStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a mounted volume reports a stop that leaves work behind. A background thread that dies (any Throwable reaching the JVM's default handler, which mount
 * sets to {@link MountedVolume#threadDied}) shows in status and makes the stop report failure.
 */
class StopReportTest {
    @TempDir
    Path dir;

    @Test
    void aThreadKilledByAnErrorShowsInStatusAndFailsTheStop() throws Exception {
        VolumeRecord record = VolumeRecord.create("v", 64 << 10, "main");
        try (MountedVolume volume = new MountedVolume(record, List.of(new MemoryStore()), java.util.Collections.singletonList(null), dir.resolve("mnt"), dir.resolve("cache"),
                64L << 20, 0, "main", 2, 2, 1_000)) {
            assertEquals(List.of(), volume.status(false).get("problems"));

            Thread commit = new Thread(() -> {
                throw new OutOfMemoryError("Java heap space (simulated)");
            }, "stratafs-commit");
            commit.setUncaughtExceptionHandler(volume::threadDied);
            commit.start();
            commit.join();

            @SuppressWarnings("unchecked")
            List<String> problems = (List<String>) volume.status(false).get("problems");
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains("stratafs-commit died of java.lang.OutOfMemoryError"), problems.get(0));
            assertTrue(Json.write(volume.status(false)).contains("stratafs-commit died"), "the JSON status names the dead thread");
            assertFalse(volume.stop(), "a stop with a dead thread does not claim a clean drain");
            assertFalse(volume.drainedCleanly());
        }
    }

    @Test
    void umountNoFlushMakesTheFinalDrainGiveUpAtOnce() throws Exception {
        VolumeRecord record = VolumeRecord.create("v", 64 << 10, "main");
        MountedVolume volume = new MountedVolume(record, List.of(new MemoryStore()), java.util.Collections.singletonList(null), dir.resolve("mnt"), dir.resolve("cache"),
                64L << 20, 0, "main", 2, 2, 600_000);
        assertEquals("ok", volume.handle("no-flush"));
        long start = System.nanoTime();
        volume.close();
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 60_000, "after no-flush the final drain took " + ms + " ms, as if the 600 s stop timeout still held");
        assertFalse(volume.drainedCleanly(), "the root directory's journal record was never uploaded");
    }
}
