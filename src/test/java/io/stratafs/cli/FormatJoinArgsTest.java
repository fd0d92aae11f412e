package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Options of {@code format} that do not fit together are refused before any storage is touched, with
 * one line (the joins themselves are tested in FormatJoinIT and SiteRegistryTest).
 */
class FormatJoinArgsTest {
    @TempDir
    Path dir;

    /** Runs the command in this JVM; returns its exit status and what it printed on stderr. */
    private static String[] run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new String[] {Integer.toString(exit), err.toString(StandardCharsets.UTF_8).strip()};
        } finally {
            System.setErr(saved);
        }
    }

    private void refused(String expected, String... args) {
        String[] r = run(args);
        assertEquals("1", r[0], r[1]);
        assertEquals("stratafs: " + expected, r[1]);
        assertFalse(Files.exists(dir.resolve("new")), "a refused format created its storage");
        assertFalse(Files.exists(dir.resolve("peer")), "a refused format touched the peer");
    }

    @Test
    void aJoinNeedsTheNewSitesName() {
        refused("--join needs --site NAME, the name of the new site",
                "format", dir.resolve("new").toString(), "--join", dir.resolve("peer").toString());
    }

    @Test
    void aJoinTakesNameAndBlockSizeFromTheVolume() {
        refused("--name comes from the volume being joined; leave it out with --join",
                "format", dir.resolve("new").toString(), "--site", "B", "--join", dir.resolve("peer").toString(), "--name", "x");
        refused("--block-size comes from the volume being joined; leave it out with --join",
                "format", dir.resolve("new").toString(), "--site", "B", "--join", dir.resolve("peer").toString(), "--block-size", "1M");
    }

    @Test
    void joinOptionsNeedAJoin() {
        refused("--join-profile only goes with --join PEER_STORAGE", "format", dir.resolve("new").toString(), "--join-profile", "p");
        refused("--join-path-style only goes with --join PEER_STORAGE", "format", dir.resolve("new").toString(), "--join-path-style");
    }

    @Test
    void aProfileNameIsChecked() {
        refused("--profile \"a b\" is not an AWS profile name (1-64 letters, digits, '.', '_', '@', '+' or '-')",
                "format", dir.resolve("new").toString(), "--profile", "a b");
    }

    @Test
    void aJoinThroughAMissingStorageSaysSo() {
        String[] r = run("format", dir.resolve("new").toString(), "--site", "B", "--join", dir.resolve("peer").toString());
        assertEquals("1", r[0], r[1]);
        assertEquals("stratafs: cannot read the volume to join: storage directory " + dir.resolve("peer") + " does not exist", r[1]);
        assertFalse(Files.exists(dir.resolve("new")), "a refused join left its storage directory behind");
    }
}
