package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache directory whose daemon still runs is refused; a pid file left by a dead or unrelated process is not. */
class DaemonPidFileTest {
    @TempDir
    Path cache;

    /** A process whose command line holds {@code name}, from its start (bash's -c text) and after the exec. */
    private static Process sleeper(String name) throws Exception {
        return new ProcessBuilder("bash", "-c", "exec -a " + name + " sleep 600").start();
    }

    @Test
    void aLiveStrataFsProcessKeepsItsCacheDirectory() throws Exception {
        Process daemon = sleeper("stratafs-daemon-stand-in");
        try {
            Files.writeString(cache.resolve(DaemonPidFile.NAME), daemon.pid() + "\n");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> DaemonPidFile.refuseIfLive(cache));
            assertTrue(e.getMessage().contains("still in use by StrataFS process " + daemon.pid()), e.getMessage());
        } finally {
            daemon.destroyForcibly().waitFor();
        }
        assertDoesNotThrow(() -> DaemonPidFile.refuseIfLive(cache), "a dead daemon's pid file must not block the mount");
    }

    @Test
    void aPidReusedByAnotherProgramOrGarbageDoesNotBlock() throws Exception {
        Process other = sleeper("unrelated");
        try {
            Files.writeString(cache.resolve(DaemonPidFile.NAME), other.pid() + "\n");
            assertDoesNotThrow(() -> DaemonPidFile.refuseIfLive(cache));
        } finally {
            other.destroyForcibly().waitFor();
        }
        Files.writeString(cache.resolve(DaemonPidFile.NAME), "not a pid\n");
        assertDoesNotThrow(() -> DaemonPidFile.refuseIfLive(cache));
        Files.delete(cache.resolve(DaemonPidFile.NAME));
        assertDoesNotThrow(() -> DaemonPidFile.refuseIfLive(cache));
    }
}
