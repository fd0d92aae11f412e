package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line: clear one-line errors on stderr, non-zero exits, nothing mounted on failure. */
class CliIT {
    /** Non-zero exit, nothing on stdout, exactly one line on stderr, containing {@code expected}. */
    static void oneLineFailure(Shell.Split r, String expected) {
        String both = "stdout:\n" + r.stdout() + "stderr:\n" + r.stderr();
        assertNotEquals(0, r.exit(), both);
        assertEquals("", r.stdout(), "a failure printed to stdout: " + both);
        assertEquals(1, r.stderr().strip().lines().count(), "not one line on stderr: " + both);
        assertTrue(r.stderr().contains(expected), "expected \"" + expected + "\" in: " + both);
    }

    @Test
    void unknownFlagsAndCommandsAreRefused() {
        oneLineFailure(MountFixture.cliSplit("mount", "/tmp/a", "/tmp/b", "--no-such-flag"), "--no-such-flag");
        oneLineFailure(MountFixture.cliSplit("format", "/tmp/a", "--bogus"), "--bogus");
        oneLineFailure(MountFixture.cliSplit("frobnicate"), "frobnicate");
    }

    @Test
    void everyCommandExplainsItselfWithHelp() {
        for (String command : List.of("format", "mount", "umount", "status")) {
            Shell.Split r = MountFixture.cliSplit(command, "--help");
            assertEquals(0, r.exit(), "stratafs " + command + " --help: " + r.stdout() + r.stderr());
            assertTrue(r.stdout().contains("Usage: stratafs " + command), r.stdout() + r.stderr());
        }
    }

    @Test
    void mountingAnUnformattedOrMissingStoreSaysWhatToRun() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            oneLineFailure(MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString()),
                    "stratafs format " + fs.storage);
            String missing = fs.root.resolve("absent").toString();
            Shell.Split r = MountFixture.cliSplit("mount", missing, fs.mnt.toString(), "--cache-dir", fs.cache.toString());
            oneLineFailure(r, missing);
            assertFalse(fs.isMounted());
            assertTrue(fs.daemons().isEmpty(), "a failed mount left a daemon running");
        }
    }

    @Test
    void libfuseRefusingTheMountpointIsReportedInOneLine() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format();
            Files.writeString(fs.mnt.resolve("already-here"), "x");
            oneLineFailure(MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString()),
                    "mountpoint is not empty");
            assertFalse(fs.isMounted());
            assertTrue(fs.daemons().isEmpty(), "a failed mount left a daemon running");
            Files.delete(fs.mnt.resolve("already-here"));
        }
    }

    @Test
    void formattingTwiceIsRefusedAndBadSizesAreExplained() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format();
            oneLineFailure(MountFixture.cliSplit("format", fs.storage), "refusing to format it again");
            oneLineFailure(MountFixture.cliSplit("format", fs.root.resolve("other").toString(), "--block-size", "3M"), "power of two");
            oneLineFailure(MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-size", "lots"), "invalid size");
            assertFalse(fs.isMounted());
        }
    }

    @Test
    void statusPrintsJsonWithTheFiguresAndUmountLeavesNothingBehind() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format().mount();
            fs.sh("head -c 5000000 /dev/urandom > f");
            Shell.Split status = MountFixture.cliSplit("status", fs.mnt.toString(), "--json");
            assertEquals(0, status.exit(), status.stderr());
            String fields = fs.sh("""
                    python3 -c 'import json, sys
                    s = json.loads(sys.argv[1])
                    for k in ("dirtyBytes", "cacheBytes", "pendingBlocks", "pendingJournalEntries", "uploadedBlocks"):
                        assert isinstance(s[k], int) and s[k] >= 0, (k, s.get(k))
                    print(s["cacheBytes"] >= 5000000)' '%s'
                    """.formatted(status.stdout().strip().replace("'", "'\\''")));
            assertEquals("True", fields.trim(), "cacheBytes does not count the 5 MB just written: " + status.stdout());
            assertTrue(MountFixture.ok("status", fs.mnt.toString()).contains("pendingBlocks"));
            oneLineFailure(MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString() + "-2"),
                    "already mounted");
            fs.umount();
            assertFalse(Files.exists(fs.cache.resolve("stratafs.pid")), "the daemon did not exit cleanly");
            assertTrue(fs.daemons().isEmpty(), "the daemon is still running after umount");
            oneLineFailure(MountFixture.cliSplit("status", fs.mnt.toString()), "no StrataFS mount is running");
            oneLineFailure(MountFixture.cliSplit("umount", fs.mnt.toString()), "nothing is mounted");
        }
    }
}
