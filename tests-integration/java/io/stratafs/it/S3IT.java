package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.s3.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * StrataFS on a real S3 server (S3Proxy on 127.0.0.1, objects kept as files) through real mounts:
 * disaster recovery, an outage while writing, kill -9 with uploads pending, corrupt objects,
 * bad credentials and buckets, and a cache too small for the data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3IT {
    private S3ProxyServer server;
    private int volumes;

    @BeforeAll
    void startServer() throws Exception {
        server = S3ProxyServer.startInTempDir("stratafs-s3proxy-", "vol");
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** A fixture on a fresh prefix of the bucket, with credentials in the environment as in production. */
    private MountFixture s3Fixture(String... extraTargets) throws Exception {
        String prefix = "v" + (++volumes);
        StringBuilder storage = new StringBuilder("s3://vol/" + prefix);
        for (String t : extraTargets) {
            storage.append(',').append(t.replace("PREFIX", prefix));
        }
        MountFixture fs = new MountFixture().withStorage(storage.toString(), "--endpoint", server.endpoint().toString(), "--path-style");
        fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
        fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
        fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
        return fs;
    }

    private Path objectFile(String prefix, String key) {
        return server.storageDir().resolve("vol").resolve(prefix).resolve(key);
    }

    private static void awaitUploaded(MountFixture fs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 180_000;
        while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
            assertTrue(System.currentTimeMillis() < deadline, "uploads did not finish: " + fs.statusJson());
            Thread.sleep(200);
        }
    }

    /** Polls status until a target is reported unhealthy (at most 60 s); returns that status. */
    private static String awaitUnhealthy(MountFixture fs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        String status = fs.statusJson();
        while (!status.contains("\"healthy\":false")) {
            assertTrue(System.currentTimeMillis() < deadline, "no target ever showed as unhealthy: " + status);
            Thread.sleep(200);
            status = fs.statusJson();
        }
        return status;
    }

    @Test
    void aSecondMachineSeesEverythingFromTheBucket() throws Exception {
        try (MountFixture fs = s3Fixture().format().mount()) {
            fs.sh("""
                    mkdir -p a/b; for i in $(seq 1 50); do head -c $((i * 20000)) /dev/urandom > a/b/f$i; done
                    head -c 20000000 /dev/urandom > big; ln -s big link; echo hi > a/small
                    find . -type f -print0 | sort -z | xargs -0 sha256sum > %s/sums
                    """.formatted(fs.root));
            fs.remountWithEmptyCache();
            fs.sh("sha256sum --quiet -c %s/sums; test \"$(readlink link)\" = big".formatted(fs.root));
        }
    }

    /**
     * Polls status (at most 120 s) until dirty data is within one block of the dirty limit and at
     * least {@code waiters} of the writers' processes wait for the mount's reply: they are held at
     * the limit, not merely slow.
     */
    private static void awaitWritersHeldAtTheLimit(MountFixture fs, Shell.Background writers, long waiters) throws InterruptedException {
        long limit = fs.statusField("cacheCapacityBytes") * 9 / 10;
        long block = fs.statusField("blockSize");
        long deadline = System.currentTimeMillis() + 120_000;
        while (fs.statusField("dirtyBytes") < limit - block || writers.waitingForFuse() < waiters) {
            assertTrue(writers.isAlive(), () -> "the writers ended during the outage: " + writers.output());
            assertTrue(System.currentTimeMillis() < deadline, () -> "writers never came to wait at the dirty limit of " + limit
                    + " bytes (" + writers.waitingForFuse() + " waiting): " + fs.statusJson());
            Thread.sleep(200);
        }
    }

    @Test
    void anOutageWhileWritingIsNotAnErrorAndWritersWaitAtTheDirtyLimit() throws Exception {
        try (MountFixture fs = s3Fixture().withMountArgs("--cache-size", "48M").format().mount()) {
            server.stop();
            boolean restored = false;
            // 96 MiB of new data cannot fit under a 48 MiB cache while nothing uploads: the writer must wait
            try (Shell.Background writer = Shell.background(fs.root, fs.root.resolve("writer.out"), List.of("bash", "-euo", "pipefail", "-c", """
                    for i in $(seq 1 24); do head -c 4194304 /dev/urandom > %1$s/src$i; cp %1$s/src$i %2$s/o$i; echo copied $i; done
                    """.formatted(fs.root, fs.mnt)))) {
                awaitWritersHeldAtTheLimit(fs, writer, 1);
                awaitUnhealthy(fs);
                assertTrue(fs.statusField("dirtyBytes") <= fs.statusField("cacheCapacityBytes") * 9 / 10,
                        () -> "dirty data passed the limit: " + fs.statusJson());
                assertTrue(writer.isAlive() && writer.output().lines().count() < 24, () -> "the writer did not wait: " + writer.output());
                server.restartSamePort();
                restored = true;
                assertTrue(writer.waitFor(180, TimeUnit.SECONDS), () -> "the writer did not finish after the server returned: " + writer.output());
                assertEquals(0, writer.exitValue(), writer::output);
                assertEquals(24, writer.output().lines().count(), writer::output);
            } finally {
                if (!restored) {
                    server.restartSamePort();
                }
            }
            awaitUploaded(fs);
            assertEquals(0, fs.statusField("dirtyBytes"), fs::statusJson);
            fs.remountWithEmptyCache();
            fs.sh("for i in $(seq 1 24); do cmp %s/src$i o$i; done".formatted(fs.root));
        }
    }

    @Test
    void aTargetThatIsDownIsCaughtUpWhenItReturns() throws Exception {
        try (MountFixture fs = s3Fixture()) {
            Path local = Files.createDirectories(fs.root.resolve("local-target"));
            fs.storage = local + "," + fs.storage;
            fs.format().mount();
            server.stop();
            try {
                fs.sh("for i in $(seq 1 6); do head -c 2000000 /dev/urandom > f$i; done; sha256sum f* > %s/sums".formatted(fs.root));
                String status = awaitUnhealthy(fs);
                assertTrue(status.contains("\"target\":\"file://" + local + "\",\"healthy\":true,\"lastError\":null,\"pendingBlocks\":0"),
                        "the local target should be caught up: " + status);
            } finally {
                server.restartSamePort();
            }
            awaitUploaded(fs);
            fs.umount();
            fs.storage = fs.storage.substring(fs.storage.indexOf(',') + 1);
            fs.cache = fs.root.resolve("cache-s3-only");
            fs.mount();
            fs.sh("sha256sum --quiet -c %s/sums".formatted(fs.root));
        }
    }

    @Test
    void credentialsRevokedWhileMountedKeepTheMountServingAndStatusSaysWhy() throws Exception {
        try (MountFixture fs = s3Fixture().format().mount()) {
            fs.sh("head -c 3000000 /dev/urandom > before; sha256sum before > %s/before.sum".formatted(fs.root));
            awaitUploaded(fs);
            server.restartSamePort(S3ProxyServer.ACCESS_KEY, "a-rotated-secret-the-mount-lacks");
            try {
                fs.sh("head -c 3000000 /dev/urandom > after; sha256sum after > %s/after.sum".formatted(fs.root));
                String status = awaitUnhealthy(fs);
                assertTrue(status.contains("access denied"), "status does not say why: " + status);
                assertFalse(status.contains(S3ProxyServer.SECRET_KEY), "status shows a secret: " + status);
                assertTrue(fs.statusField("pendingBlocks") > 0, "the new file should wait in the cache: " + status);
                fs.sh("sha256sum --quiet -c %s/before.sum; sha256sum --quiet -c %s/after.sum".formatted(fs.root, fs.root));
            } finally {
                server.restartSamePort();
            }
            awaitUploaded(fs);
            fs.remountWithEmptyCache();
            fs.sh("sha256sum --quiet -c %s/before.sum; sha256sum --quiet -c %s/after.sum".formatted(fs.root, fs.root));
        }
    }

    /** 40 writers blocked at the dirty limit hold 40 FUSE requests; other requests must still be answered. */
    @Test
    void writersWaitingOnAnOutageDoNotStallOtherRequests() throws Exception {
        try (MountFixture fs = s3Fixture().withMountArgs("--cache-size", "16M").format().mount()) {
            fs.sh("head -c 1000000 /dev/urandom > before; sha256sum before > %s/before.sum".formatted(fs.root));
            awaitUploaded(fs);
            server.stop();
            boolean restored = false;
            try (Shell.Background writers = Shell.background(fs.mnt, fs.root.resolve("writers.out"), List.of("bash", "-euo", "pipefail", "-c", """
                    pids=()
                    for i in $(seq 0 39); do head -c 3000000 /dev/urandom > w$i & pids+=($!); done
                    for p in "${pids[@]}"; do wait $p; done
                    echo all-written
                    """))) {
                awaitWritersHeldAtTheLimit(fs, writers, 30);
                Shell.Result r = Shell.run(fs.mnt, 30, List.of("bash", "-c",
                        "stat -c %%s . > /dev/null; ls -f | grep -c '^w'; sha256sum --quiet -c %s/before.sum && echo readable"
                                .formatted(fs.root)));
                assertEquals("40\nreadable", r.out().strip(), r.out());
                server.restartSamePort();
                restored = true;
                assertTrue(writers.waitFor(180, TimeUnit.SECONDS), () -> "the writers never finished after the server returned: " + writers.output());
                assertEquals(0, writers.exitValue(), writers::output);
            } finally {
                if (!restored) {
                    server.restartSamePort();
                }
            }
            awaitUploaded(fs);
        }
    }

    @Test
    void killNineWithUploadsPendingLosesNothing() throws Exception {
        try (MountFixture fs = s3Fixture().format().mount()) {
            server.stop();
            try {
                fs.sh("""
                        for i in $(seq 1 10); do head -c 1500000 /dev/urandom > f$i; done
                        sha256sum f* > %s/sums
                        """.formatted(fs.root));
                assertTrue(fs.statusField("pendingBlocks") > 0, "nothing was pending: " + fs.statusJson());
                fs.kill9();
            } finally {
                server.restartSamePort();
            }
            fs.runOk(fs.mountArgs().toArray(new String[0]));
            awaitUploaded(fs);
            fs.remountWithEmptyCache();
            fs.sh("sha256sum --quiet -c %s/sums".formatted(fs.root));
        }
    }

    @Test
    void aCorruptObjectGivesEioAndASecondTargetRepairsIt() throws Exception {
        try (MountFixture fs = s3Fixture().format().mount()) {
            fs.sh("head -c 300000 /dev/urandom > one");
            fs.umount();
            corruptEveryBlock(objectFile("v" + volumes, "blocks"));
            fs.cache = fs.root.resolve("cache-fresh");
            fs.mount();
            Shell.Result r = Shell.run(fs.mnt, 60, List.of("cat", "one"));
            assertNotEquals(0, r.exit());
            assertTrue(r.out().contains("Input/output error"), r.out());
            String log = Files.readString(fs.cache.resolve("stratafs.log"));
            assertTrue(log.contains("is corrupt") && log.contains("blocks/"), "no log line names the object:\n" + log);
        }
        try (MountFixture fs = s3Fixture("s3://vol/PREFIX-mirror").format().mount()) {
            String prefix = "v" + volumes;
            fs.sh("head -c 300000 /dev/urandom > one; sha256sum one > %s/sum".formatted(fs.root));
            fs.umount();
            Path bad = corruptEveryBlock(objectFile(prefix, "blocks"));
            byte[] corrupted = Files.readAllBytes(bad);
            fs.cache = fs.root.resolve("cache-fresh");
            fs.mount();
            fs.sh("sha256sum -c --quiet %s/sum".formatted(fs.root));
            assertFalse(java.util.Arrays.equals(corrupted, Files.readAllBytes(bad)), "the corrupt copy was not repaired");
            assertTrue(Files.readString(fs.cache.resolve("stratafs.log")).contains("repaired corrupt object"));
        }
    }

    /** Flips a byte in every block object under a target's blocks/ directory; returns one of them. */
    private static Path corruptEveryBlock(Path blocks) throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(blocks)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertFalse(files.isEmpty(), "no block objects under " + blocks);
        for (Path f : files) {
            byte[] b = Files.readAllBytes(f);
            b[b.length / 2] ^= 0x5a;
            Files.write(f, b);
        }
        return files.get(0);
    }

    @Test
    void badCredentialsMissingBucketsAndDeadEndpointsFailInOneLine() throws Exception {
        try (MountFixture fs = s3Fixture().format()) {
            fs.env.put("AWS_SECRET_ACCESS_KEY", "not-the-secret");
            Shell.Result r = fs.run(fs.mountArgs().toArray(new String[0]));
            assertNotEquals(0, r.exit());
            assertEquals(1, r.out().strip().lines().count(), r.out());
            assertTrue(r.out().contains("access denied"), r.out());
            assertFalse(r.out().contains("not-the-secret"));
            assertFalse(fs.isMounted());
        }
        try (MountFixture fs = s3Fixture()) {
            fs.storage = "s3://no-such-bucket";
            Shell.Result r = fs.run(fs.mountArgs().toArray(new String[0]));
            assertTrue(r.exit() != 0 && r.out().contains("bucket \"no-such-bucket\"") && r.out().contains("not found"), r.out());
            assertFalse(fs.isMounted());
        }
        String deadEndpoint;
        try (S3ProxyServer gone = S3ProxyServer.start(server.storageDir().resolve("gone"))) {
            deadEndpoint = gone.endpoint().toString();
        }
        try (MountFixture fs = new MountFixture().withStorage("s3://vol/x", "--endpoint", deadEndpoint, "--path-style")) {
            fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
            fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
            Shell.Result r = fs.run(fs.mountArgs().toArray(new String[0]));
            assertTrue(r.exit() != 0 && r.out().contains("cannot reach"), r.out());
            assertEquals(1, r.out().strip().lines().count(), r.out());
            assertFalse(fs.isMounted());
        }
    }

    @Test
    void aBlockThatCanNeverFitGivesEnospcOthersWait() throws Exception {
        try (MountFixture fs = s3Fixture().withMountArgs("--cache-size", "8M").format("--block-size", "16M").mount()) {
            Shell.Result r = Shell.run(fs.mnt, 120, List.of("bash", "-c", "head -c 20000000 /dev/zero | tr '\\\\0' x > huge"));
            assertNotEquals(0, r.exit());
            assertTrue(r.out().contains("No space left on device"), r.out());
            fs.sh("head -c 5000000 /dev/urandom > %s/small.src; cp %s/small.src small; cmp small %s/small.src"
                    .formatted(fs.root, fs.root, fs.root));
        }
    }
}
