package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The command line: clear one-line errors, non-zero exits, nothing mounted on failure. */
class CliIT {
    private static void oneLineFailure(Shell.Result r, String expected) {
        assertNotEquals(0, r.exit(), r.out());
        assertEquals(1, r.out().strip().lines().count(), "not one line: " + r.out());
        assertTrue(r.out().contains(expected), "expected \"" + expected + "\" in: " + r.out());
    }

    @Test
    void unknownFlagsAndCommandsAreRefused() {
        oneLineFailure(MountFixture.cli("mount", "/tmp/a", "/tmp/b", "--no-such-flag"), "Unknown option: '--no-such-flag'");
        oneLineFailure(MountFixture.cli("frobnicate"), "frobnicate");
    }

    @Test
    void mountingAnUnformattedOrMissingStoreSaysWhatToRun() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            oneLineFailure(MountFixture.cli("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString()),
                    "stratafs format " + fs.storage);
            String missing = fs.root.resolve("absent").toString();
            oneLineFailure(MountFixture.cli("mount", missing, fs.mnt.toString(), "--cache-dir", fs.cache.toString()),
                    "stratafs format " + missing);
            assertFalse(fs.isMounted());
        }
    }

    @Test
    void formattingTwiceIsRefusedAndBadSizesAreExplained() throws Exception {
        try (MountFixture fs = new MountFixture().format()) {
            oneLineFailure(MountFixture.cli("format", fs.storage), "refusing to format it again");
            oneLineFailure(MountFixture.cli("format", fs.root.resolve("other").toString(), "--block-size", "3M"), "power of two");
            oneLineFailure(MountFixture.cli("mount", fs.storage, fs.mnt.toString(), "--cache-size", "lots"), "invalid size");
        }
    }

    @Test
    void statusReportsTheFiguresAndUmountLeavesNothingBehind() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            fs.sh("head -c 5000000 /dev/urandom > f");
            String json = fs.statusJson();
            for (String field : new String[] {"dirtyBytes", "cacheBytes", "pendingBlocks", "pendingJournalEntries", "targets"}) {
                assertTrue(json.contains("\"" + field + "\""), field + " missing from " + json);
            }
            assertTrue(MountFixture.ok("status", fs.mnt.toString()).contains("pendingBlocks"));
            oneLineFailure(MountFixture.cli("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString() + "-2"),
                    "already mounted");
            fs.umount();
            assertFalse(Files.exists(fs.cache.resolve("stratafs.pid")), "the daemon did not exit cleanly");
            oneLineFailure(MountFixture.cli("status", fs.mnt.toString()), "no StrataFS mount is running");
            oneLineFailure(MountFixture.cli("umount", fs.mnt.toString()), "nothing is mounted");
        }
    }
}
