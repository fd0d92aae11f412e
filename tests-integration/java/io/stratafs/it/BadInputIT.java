package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input to every command: each case gives one line on stderr naming the problem, a non-zero
 * exit, and leaves nothing mounted or running. The mounts a case needs as obstacles (tmpfs, bindfs)
 * are undone in {@link #cleanUp()}, also when an assertion fails.
 */
class BadInputIT {
    private MountFixture fs;
    private Path obstacle;

    @BeforeEach
    void setUp() throws IOException {
        fs = new MountFixture();
        fs.format();
    }

    @AfterEach
    void cleanUp() {
        try {
            // a failed refusal may have stacked a StrataFS mount on the obstacle: take off everything there
            for (int i = 0; i < 3 && obstacle != null && mountedAt(obstacle) != null; i++) {
                Shell.run(fs.root, 60, List.of("umount", "-l", obstacle.toString()));
            }
        } finally {
            fs.close();
        }
    }

    /** Non-zero exit, nothing on stdout, one line on stderr with every expected part, no stack trace. */
    private static void oneLineFailure(Shell.Split r, String... expected) {
        String both = "stdout:\n" + r.stdout() + "stderr:\n" + r.stderr();
        assertNotEquals(0, r.exit(), both);
        assertEquals("", r.stdout(), "a failure printed to stdout: " + both);
        assertEquals(1, r.stderr().strip().lines().count(), "not one line on stderr: " + both);
        assertTrue(r.stderr().startsWith("stratafs: "), both);
        assertFalse(r.stderr().contains("Exception") || r.stderr().contains("\tat "), "a stack trace or exception name: " + both);
        for (String e : expected) {
            assertTrue(r.stderr().contains(e), "expected \"" + e + "\" in: " + both);
        }
    }

    private void nothingLeftBehind() {
        assertFalse(fs.isMounted(), fs.mnt + " was left mounted");
        assertTrue(fs.daemons().isEmpty(), "a failed command left a StrataFS daemon running");
    }

    private Shell.Split mountAt(Path mountpoint) {
        return MountFixture.cliSplit("mount", fs.storage, mountpoint.toString(), "--cache-dir", fs.cache.toString());
    }

    /** The filesystem type mounted exactly at the path (the topmost one), or null. */
    private static String mountedAt(Path path) {
        try {
            String type = null;
            for (String line : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals(path.toString())) {
                    type = f[2];
                }
            }
            return type;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aMountpointThatDoesNotExistOrIsAFileIsNamed() throws IOException {
        Path missing = fs.root.resolve("no-such-dir");
        oneLineFailure(mountAt(missing), missing.toString(), "does not exist");
        Path file = Files.writeString(fs.root.resolve("a-file"), "x");
        oneLineFailure(mountAt(file), file.toString(), "is not a directory");
        nothingLeftBehind();
    }

    @Test
    void aMountpointThatIsAlreadyAnotherMountIsRefusedAndLeftAlone() throws IOException {
        obstacle = fs.mnt;
        Shell.Result tmpfs = Shell.run(fs.root, 60, List.of("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", fs.mnt.toString()));
        assertEquals(0, tmpfs.exit(), tmpfs.out());
        oneLineFailure(mountAt(fs.mnt), fs.mnt.toString(), "already a mount point", "tmpfs from tmpfs");
        assertEquals("tmpfs", mountedAt(fs.mnt), "the tmpfs mount was disturbed");
        assertTrue(fs.daemons().isEmpty(), "a refused mount left a daemon running");
    }

    @Test
    void aStoreThatIsNotAVolumeIsNamed() throws IOException {
        Path random = Files.createDirectories(fs.root.resolve("random/sub"));
        Files.writeString(random.resolve("notes.txt"), "not a volume");
        oneLineFailure(MountFixture.cliSplit("mount", random.getParent().toString(), fs.mnt.toString(), "--cache-dir", fs.cache.toString()),
                random.getParent().toString(), "is not a StrataFS volume", "stratafs format");
        nothingLeftBehind();
        Path file = Files.writeString(fs.root.resolve("store-file"), "x");
        oneLineFailure(MountFixture.cliSplit("mount", file.toString(), fs.mnt.toString(), "--cache-dir", fs.cache.toString()),
                file.toString(), "is not a directory");
        oneLineFailure(MountFixture.cliSplit("format", file.toString()), file.toString(), "is not a directory");
        nothingLeftBehind();
    }

    @Test
    void malformedStorageUrlsAreRefusedBeforeAnythingIsWritten() throws IOException {
        Path cwd = Files.createDirectories(fs.root.resolve("cwd"));
        for (String[] c : new String[][] {
                {"file://", "absolute path"},
                {"file://relative/dir", "absolute path"},
                {"ftp://host/x", "unsupported storage"},
                {"s3://", "bucket name"},
                {"s3://Bad_Bucket!/x", "bucket name"},
                {fs.storage + ",", "empty storage target"},
                {fs.storage + ",,", "empty storage target"}}) {
            // format is what once wrote a volume record into the working directory for file://
            for (String command : c[0].startsWith("file:") ? List.of("format", "mount") : List.of("mount")) {
                List<String> cmd = Shell.command(MountFixture.LAUNCHER.toString(), command, c[0]);
                if (command.equals("mount")) {
                    cmd.addAll(List.of(fs.mnt.toString(), "--cache-dir", fs.cache.toString()));
                }
                oneLineFailure(Shell.runSplit(cwd, 300, cmd), c[1]);
            }
        }
        oneLineFailure(MountFixture.cliSplit("mount", "s3://bucket/x", fs.mnt.toString(), "--endpoint", "ht tp://bad url"), "--endpoint");
        List<String> noCredentials = Shell.command("env", "-u", "AWS_ACCESS_KEY_ID", "-u", "AWS_SECRET_ACCESS_KEY", "-u", "AWS_PROFILE",
                "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_CONFIG_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true",
                MountFixture.LAUNCHER.toString(), "mount", "s3://bucket/x", fs.mnt.toString(), "--cache-dir", fs.cache.toString(),
                "--endpoint", "http://127.0.0.1:1", "--path-style");
        oneLineFailure(Shell.runSplit(cwd, 300, noCredentials), "no AWS credentials", "AWS_ACCESS_KEY_ID");
        try (Stream<Path> left = Files.list(cwd)) {
            assertEquals(List.of(), left.toList(), "a refused command wrote into the working directory");
        }
        nothingLeftBehind();
    }

    @Test
    void aCacheDirThatIsAFileIsNamed() throws IOException {
        Path file = Files.writeString(fs.root.resolve("cache-file"), "x");
        oneLineFailure(MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-dir", file.toString()),
                file.toString(), "is not a directory");
        nothingLeftBehind();
    }

    @Test
    void statusAndUmountOfAPathThatIsNoStrataFsMountSaySoAndTouchNothing() throws IOException {
        Path missing = fs.root.resolve("no-such-dir");
        oneLineFailure(MountFixture.cliSplit("status", fs.mnt.toString()), fs.mnt.toString(), "no StrataFS mount");
        oneLineFailure(MountFixture.cliSplit("status", missing.toString()), missing.toString(), "does not exist");
        for (Path p : List.of(fs.mnt, missing)) {
            oneLineFailure(MountFixture.cliSplit("umount", p.toString()), p.toString(), "nothing is mounted");
        }
        Path source = Files.createDirectories(fs.root.resolve("bind-source"));
        obstacle = fs.mnt;
        Shell.Result bindfs = Shell.run(fs.root, 60, List.of("bindfs", source.toString(), fs.mnt.toString()));
        assertEquals(0, bindfs.exit(), "bindfs (Debian package bindfs) is needed by this test: " + bindfs.out());
        oneLineFailure(MountFixture.cliSplit("status", fs.mnt.toString()), fs.mnt.toString(), "no StrataFS mount");
        oneLineFailure(MountFixture.cliSplit("umount", fs.mnt.toString()), fs.mnt.toString(), "not a StrataFS mount", "fuse from " + source);
        assertEquals("fuse", mountedAt(fs.mnt), "stratafs umount unmounted another filesystem");
        oneLineFailure(mountAt(fs.mnt), fs.mnt.toString(), "already a mount point", "fuse from " + source);
        assertEquals("fuse", mountedAt(fs.mnt), "a refused mount disturbed the bindfs mount");
        assertTrue(fs.daemons().isEmpty(), "a refused mount left a daemon running");
    }

    @Test
    void benchOfAMissingDirectoryOrBadSizesIsRefused() throws IOException {
        Path missing = fs.root.resolve("no-such-dir");
        oneLineFailure(MountFixture.cliSplit("bench", missing.toString()), missing.toString(), "does not exist");
        Path file = Files.writeString(fs.root.resolve("a-file"), "x");
        oneLineFailure(MountFixture.cliSplit("bench", file.toString()), file.toString(), "is not a directory");
        oneLineFailure(MountFixture.cliSplit("bench", fs.mnt.toString(), "--size", "lots"), "invalid size");
        oneLineFailure(MountFixture.cliSplit("bench", fs.mnt.toString(), "--files", "-3"), "--files");
        oneLineFailure(MountFixture.cliSplit("bench", fs.mnt.toString(), "--size", "1T", "--files", "0"), "free");
        try (Stream<Path> left = Files.list(fs.mnt)) {
            assertEquals(List.of(), left.toList(), "a refused bench left files behind");
        }
    }
}
