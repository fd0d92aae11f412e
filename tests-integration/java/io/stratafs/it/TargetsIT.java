package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.s3.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Targets are known by who they are, not by their place in the STORAGE list: a new or lagging
 * target is caught up from the others, a stranger is refused, reordering is safe, and a target that
 * does not answer at mount time does not stop the mount.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TargetsIT {
    private S3ProxyServer server;
    private int prefixes;

    @BeforeAll
    void startServer() throws Exception {
        server = S3ProxyServer.startInTempDir("stratafs-targets-s3-", "vol");
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** A fixture whose storage is a local directory and a fresh prefix of the S3Proxy bucket. */
    private MountFixture localAndS3() throws IOException {
        MountFixture fs = new MountFixture();
        String s3 = "s3://vol/t" + (++prefixes);
        fs.withStorage(Files.createDirectories(fs.root.resolve("local")) + "," + s3,
                "--endpoint", server.endpoint().toString(), "--path-style");
        fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
        fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
        fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
        return fs;
    }

    private static String local(MountFixture fs) {
        return fs.storage.substring(0, fs.storage.indexOf(','));
    }

    private static String s3(MountFixture fs) {
        return fs.storage.substring(fs.storage.indexOf(',') + 1);
    }

    /** Mounts {@code storage} with a brand-new cache directory, checks the sums, unmounts. */
    private static void checkAlone(MountFixture fs, String storage, String sums) {
        String saved = fs.storage;
        fs.storage = storage;
        fs.cache = fs.root.resolve("cache-alone-" + Math.abs(storage.hashCode()) + "-" + System.nanoTime());
        fs.mount();
        fs.sh("sha256sum --quiet -c " + sums);
        fs.umount();
        fs.storage = saved;
    }

    private static TreeSet<String> files(Path dir) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.filter(Files::isRegularFile).forEach(p -> out.add(dir.relativize(p).toString()));
            }
        }
        return out;
    }

    private static void awaitUploaded(MountFixture fs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
            assertTrue(System.currentTimeMillis() < deadline, "uploads did not finish: " + fs.statusJson());
            Thread.sleep(200);
        }
    }

    @Test
    void aNewEmptyTargetListedFirstIsFilledFromTheTargetThatHoldsTheVolume() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            Path a = Files.createDirectories(fs.root.resolve("a"));
            Path b = Files.createDirectories(fs.root.resolve("b"));
            Path fresh = Files.createDirectories(fs.root.resolve("new"));
            fs.storage = a + "," + b;
            fs.format().mount();
            fs.sh("mkdir d; for i in 1 2 3 4 5; do head -c $((i * 300000)) /dev/urandom > d/f$i; done; ln -s d/f1 link; "
                    + "sha256sum d/* link > %s/sums".formatted(fs.root));
            fs.umount();

            fs.storage = fresh + "," + b;
            fs.cache = fs.root.resolve("cache-new");
            fs.mount();
            assertEquals("d\nlink", fs.sh("ls").strip(), "the tree came from the first target, which is empty");
            fs.sh("sha256sum --quiet -c %s/sums".formatted(fs.root));
            fs.sh("echo after > d/later; sha256sum d/* link > %s/sums".formatted(fs.root));
            fs.umount();

            assertEquals(Files.readString(b.resolve("stratafs.volume")), Files.readString(fresh.resolve("stratafs.volume")));
            assertEquals(files(b.resolve("blocks")), files(fresh.resolve("blocks")));
            assertFalse(files(fresh.resolve("journal")).isEmpty(), "the new target got no journal");
            checkAlone(fs, fresh.toString(), fs.root + "/sums");
            checkAlone(fs, b.toString(), fs.root + "/sums");
        }
    }

    @Test
    void aTargetHoldingAnotherVolumeIsRefusedByName() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            Path b = Files.createDirectories(fs.root.resolve("b"));
            Path stranger = Files.createDirectories(fs.root.resolve("stranger"));
            MountFixture.ok("format", stranger.toString(), "--name", "other");
            fs.storage = b.toString();
            fs.format();
            Shell.Split r = MountFixture.cliSplit("mount", b + "," + stranger, fs.mnt.toString(), "--cache-dir", fs.cache.toString());
            assertNotEquals(0, r.exit(), r.stdout() + r.stderr());
            assertEquals(1, r.stderr().strip().lines().count(), r.stderr());
            assertTrue(r.stderr().contains("file://" + stranger) && r.stderr().contains("another volume"), r.stderr());
            assertFalse(fs.isMounted());
        }
    }

    @Test
    void aTargetThatDoesNotAnswerAtMountIsCaughtUpWhenItReturns() throws Exception {
        try (MountFixture fs = localAndS3()) {
            fs.format().mount();
            fs.sh("head -c 700000 /dev/urandom > before; sha256sum before > %s/sums".formatted(fs.root));
            fs.umount();
            server.stop();
            try {
                fs.mount();
                fs.sh("sha256sum --quiet -c %s/sums".formatted(fs.root));
                String status = fs.statusJson();
                assertTrue(status.contains("\"target\":\"" + s3(fs) + "\",\"healthy\":false"), status);
                assertTrue(status.contains("not checked yet"), status);
                fs.sh("head -c 900000 /dev/urandom > during; sha256sum before during > %s/sums".formatted(fs.root));
            } finally {
                server.restartSamePort();
            }
            // umount returns only once every target holds every block and journal record
            fs.umount();
            checkAlone(fs, s3(fs), fs.root + "/sums");
        }
    }

    @Test
    void reorderingTargetsWhileOneLagsKeepsEachTargetsBacklogWithIt() throws Exception {
        try (MountFixture fs = localAndS3()) {
            fs.format().mount();
            fs.sh("head -c 500000 /dev/urandom > one; sha256sum one > %s/sums".formatted(fs.root));
            awaitUploaded(fs);
            server.stop();
            try {
                fs.sh("head -c 600000 /dev/urandom > two; sha256sum one two > %s/sums".formatted(fs.root));
                assertTrue(fs.statusField("pendingBlocks") > 0, "the file should wait for the stopped server: " + fs.statusJson());
                fs.kill9();
            } finally {
                server.restartSamePort();
            }
            fs.storage = s3(fs) + "," + local(fs);
            fs.mount();
            fs.sh("head -c 400000 /dev/urandom > three; sha256sum one two three > %s/sums".formatted(fs.root));
            fs.umount();
            checkAlone(fs, s3(fs), fs.root + "/sums");
        }
    }
}
