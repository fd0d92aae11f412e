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
    private Path serverDir;
    private S3ProxyServer server;
    private int volumes;

    @BeforeAll
    void startServer() throws Exception {
        serverDir = Files.createTempDirectory(Path.of("/tmp"), "stratafs-s3proxy-");
        server = S3ProxyServer.start(serverDir);
        server.createBucket("vol");
    }

    @AfterAll
    void stopServer() throws Exception {
        server.close();
        try (Stream<Path> walk = Files.walk(serverDir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
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
        return serverDir.resolve("vol").resolve(prefix).resolve(key);
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

    @Test
    void anOutageWhileWritingIsNotAnErrorAndWritersWaitAtTheDirtyLimit() throws Exception {
        try (MountFixture fs = s3Fixture().withMountArgs("--cache-size", "48M").format().mount()) {
            server.stop();
            try {
                // 96 MiB of new data cannot fit under a 48 MiB cache while nothing uploads: the writer must wait
                Process writer = new ProcessBuilder("bash", "-euo", "pipefail", "-c", """
                        for i in $(seq 1 24); do head -c 4194304 /dev/urandom > %1$s/src$i; cp %1$s/src$i %2$s/o$i; done
                        echo done
                        """.formatted(fs.root, fs.mnt)).redirectErrorStream(true).start();
                long deadline = System.currentTimeMillis() + 60_000;
                boolean sawUnhealthy = false;
                while (System.currentTimeMillis() < deadline) {
                    sawUnhealthy |= fs.statusJson().contains("\"healthy\":false");
                    assertTrue(writer.isAlive(), () -> "the writer ended during the outage: " + output(writer));
                    writer.waitFor(500, TimeUnit.MILLISECONDS);
                }
                assertTrue(sawUnhealthy, "status never reported the unreachable target: " + fs.statusJson());
                assertTrue(fs.statusField("dirtyBytes") <= 48L << 20, "dirty data passed the cache size");
                server.restartSamePort();
                assertTrue(writer.waitFor(180, TimeUnit.SECONDS), "the writer did not finish after the server returned");
                assertEquals(0, writer.exitValue(), () -> output(writer));
            } finally {
                server.restartSamePort();
            }
            awaitUploaded(fs);
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
            List<Process> writers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) {
                    writers.add(new ProcessBuilder("bash", "-c", "head -c 3000000 /dev/urandom > " + fs.mnt.resolve("w" + i))
                            .redirectErrorStream(true).start());
                }
                long deadline = System.currentTimeMillis() + 60_000;
                while (writers.stream().filter(Process::isAlive).count() < 30 || fs.statusField("dirtyBytes") < 12_000_000) {
                    assertTrue(System.currentTimeMillis() < deadline, "writers did not pile up at the dirty limit: " + fs.statusJson());
                    Thread.sleep(200);
                }
                Shell.Result r = Shell.run(fs.mnt, 30, List.of("bash", "-c",
                        "stat -c %%s . > /dev/null; ls -f | grep -c '^w'; sha256sum --quiet -c %s/before.sum && echo readable"
                                .formatted(fs.root)));
                assertEquals("40\nreadable", r.out().strip(), r.out());
            } finally {
                server.restartSamePort();
            }
            for (Process w : writers) {
                assertTrue(w.waitFor(180, TimeUnit.SECONDS), "a writer never finished after the server returned");
                assertEquals(0, w.exitValue(), () -> output(w));
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

    /** The output of a process that has ended. */
    private static String output(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(output lost: " + e + ")";
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
        S3ProxyServer gone = S3ProxyServer.start(serverDir.resolve("gone"));
        String deadEndpoint = gone.endpoint().toString();
        gone.close();
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
