package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code stratafs gc} and {@code stratafs fsck} on real mounts: gc frees what deleted files held and
 * nothing else (the rest reads back through an empty cache), also while a mount writes; fsck finds
 * a corrupt and a missing block and repairs them from another target; bad input is refused.
 */
class FsckGcIT {
    private static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    /** Makes every object in a local target look written two days ago, as if the volume had been in use for a while. */
    private static void age(Path store) throws IOException {
        FileTime old = FileTime.from(Instant.now().minus(2, ChronoUnit.DAYS));
        try (Stream<Path> s = Files.walk(store)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.setLastModifiedTime(p, old);
            }
        }
    }

    private static void write(Path dir, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Files.write(dir.resolve(f.getKey()), f.getValue());
        }
    }

    private static void assertContent(Path dir, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(dir.resolve(f.getKey())), f.getKey());
        }
    }

    @Test
    void gcListsThenFreesTheBlocksOfDeletedFilesAndTheRestReadsBackThroughAnEmptyCache() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format("--block-size", "1M").mount();
            Map<String, byte[]> kept = new LinkedHashMap<>();
            kept.put("kept-big", random(1, 3 << 20));
            kept.put("kept-small", random(2, 1000));
            write(fs.mnt, kept);
            write(fs.mnt, Map.of("gone-big", random(3, (2 << 20) + 5), "gone-small", random(4, 300)));
            Files.delete(fs.mnt.resolve("gone-big"));
            Files.delete(fs.mnt.resolve("gone-small"));
            fs.umount();
            Path blocks = Path.of(fs.storage, "blocks");
            long before = count(blocks);

            Shell.Split dry = MountFixture.cliSplit("gc", fs.storage, "--dry-run", "--min-age", "0");
            assertEquals(0, dry.exit(), dry.stderr());
            List<String> blockLines = dry.stdout().lines().filter(l -> l.startsWith("would delete blocks/")).toList();
            assertEquals(4, blockLines.size(), dry.stdout());
            assertEquals((2 << 20) + 5 + 300, blockLines.stream()
                    .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf('(') + 1, l.lastIndexOf(" bytes)")))).sum(), dry.stdout());
            assertTrue(dry.stdout().lines().anyMatch(l -> l.startsWith("would delete journal/main/")),
                    "the journal before the checkpoint umount wrote goes too: " + dry.stdout());
            assertTrue(dry.stdout().lines().reduce((x, y) -> y).orElse("").startsWith("gc: would delete "), dry.stdout());
            assertEquals(before, count(blocks), "a dry run deletes nothing");

            Shell.Split real = MountFixture.cliSplit("gc", fs.storage, "--min-age", "0");
            assertEquals(0, real.exit(), real.stderr());
            assertTrue(real.stdout().contains(" bytes freed"), real.stdout());
            assertEquals(before - 4, count(blocks), "3 blocks of gone-big, 1 of gone-small");
            assertEquals(0, count(Path.of(fs.storage, "trash")));

            fs.cache = fs.root.resolve("cache-empty");
            fs.mount();
            assertContent(fs.mnt, kept);
            assertEquals(List.of("kept-big", "kept-small"), fs.sh("ls").lines().toList());
            fs.umount();
            Shell.Split fsck = MountFixture.cliSplit("fsck", fs.storage);
            assertEquals(0, fsck.exit(), fsck.stdout() + fsck.stderr());
            assertTrue(fsck.stdout().contains("clean"), fsck.stdout());
        }
    }

    /**
     * gc runs while the mount writes new files, among them the content of deleted files again: the
     * mount's cache still holds those blocks, so it need not upload them, and gc sees them as
     * unreferenced and old (whether a run falls into that window depends on timing; the race itself
     * is driven deterministically in GcTest). Nothing written may be lost.
     */
    @Test
    void gcWhileTheVolumeIsMountedAndWrittenLosesNothing() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format("--block-size", "64K").mount();
            Map<String, byte[]> deleted = new LinkedHashMap<>();
            for (int i = 0; i < 10; i++) {
                deleted.put("old-" + i, random(100 + i, 200_000));
            }
            write(fs.mnt, deleted);
            write(fs.mnt, Map.of("junk", random(99, 300_000)));
            fs.sh("sync; rm old-* junk");
            fs.remount();
            age(Path.of(fs.storage));

            Map<String, byte[]> written = new LinkedHashMap<>();
            for (int i = 0; i < 10; i++) {
                written.put("again-" + i, deleted.get("old-" + i));
                written.put("new-" + i, random(200 + i, 150_000));
            }
            ExecutorService writer = Executors.newSingleThreadExecutor();
            try {
                Future<?> writing = writer.submit(() -> {
                    for (Map.Entry<String, byte[]> f : written.entrySet()) {
                        Files.write(fs.mnt.resolve(f.getKey()), f.getValue());
                    }
                    return null;
                });
                List<String> gcOutputs = new ArrayList<>();
                do {
                    Shell.Split gc = MountFixture.cliSplit("gc", fs.storage, "--min-age", "1h");
                    assertEquals(0, gc.exit(), gc.stdout() + gc.stderr());
                    gcOutputs.add(gc.stdout());
                } while (!writing.isDone());
                writing.get();
                // the junk file's blocks at least: nothing writes that content again
                assertTrue(gcOutputs.get(0).contains("moved to trash blocks/"), String.join("\n", gcOutputs));
            } finally {
                writer.shutdownNow();
            }
            fs.umount();
            Shell.Split after = MountFixture.cliSplit("gc", fs.storage, "--min-age", "1h");
            assertEquals(0, after.exit(), after.stderr());

            fs.cache = fs.root.resolve("cache-empty");
            fs.mount();
            assertContent(fs.mnt, written);
            fs.umount();
            Shell.Split fsck = MountFixture.cliSplit("fsck", fs.storage);
            assertEquals(0, fsck.exit(), fsck.stdout() + fsck.stderr());
        }
    }

    @Test
    void fsckFindsACorruptAndAMissingBlockAndRepairsThemFromTheOtherTarget() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            Path a = Files.createDirectories(fs.root.resolve("a"));
            Path b = Files.createDirectories(fs.root.resolve("b"));
            fs.withStorage(a + "," + b).format("--block-size", "1M").mount();
            byte[] data = random(7, 3 << 20);
            write(fs.mnt, Map.of("file", data));
            fs.umount();

            List<Path> inA;
            try (Stream<Path> s = Files.walk(a.resolve("blocks"))) {
                inA = s.filter(p -> Files.isRegularFile(p) && p.toFile().length() == 1 << 20).sorted().toList();
            }
            Files.write(inA.get(0), random(8, 1 << 20));
            Files.delete(inA.get(1));

            Shell.Split found = MountFixture.cliSplit("fsck", a.toString(), b.toString());
            assertEquals(1, found.exit(), found.stdout() + found.stderr());
            assertTrue(found.stdout().contains("is corrupt"), found.stdout());
            assertTrue(found.stdout().contains("is missing"), found.stdout());
            assertTrue(found.stdout().lines().anyMatch(l -> l.startsWith("fsck: ") && l.contains("2 problem(s) found")), found.stdout());

            Shell.Split repaired = MountFixture.cliSplit("fsck", a + "," + b, "--repair");
            assertEquals(0, repaired.exit(), repaired.stdout() + repaired.stderr());
            assertEquals(2, repaired.stdout().lines().filter(l -> l.startsWith("repaired: ") && l.contains("repaired from file://" + b)).count(),
                    repaired.stdout());

            Shell.Split clean = MountFixture.cliSplit("fsck", a + "," + b);
            assertEquals(0, clean.exit(), clean.stdout());
            assertTrue(clean.stdout().contains("clean"), clean.stdout());

            // the repaired target alone serves the file
            fs.withStorage(a.toString());
            fs.cache = fs.root.resolve("cache-a");
            fs.mount();
            assertContent(fs.mnt, Map.of("file", data));
        }
    }

    @Test
    void badInputIsRefusedWithOneLineAndANonZeroExit() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format();
            Path notAVolume = Files.createDirectories(fs.root.resolve("empty"));
            Path missing = fs.root.resolve("no-such-dir");
            List<String[]> cases = List.of(
                    new String[] {"gc", notAVolume.toString(), "--min-age", "0"},
                    new String[] {"gc", fs.storage, "--min-age", "soon"},
                    new String[] {"gc", fs.storage + "," + missing, "--min-age", "0"},
                    new String[] {"fsck", missing.toString()},
                    new String[] {"fsck", fs.storage, "--cache-dir", missing.toString()});
            List<String> expected = List.of("is not a StrataFS volume", "--min-age must be", "does not exist", "does not exist",
                    "holds no StrataFS cache");
            for (int i = 0; i < cases.size(); i++) {
                Shell.Split r = MountFixture.cliSplit(cases.get(i));
                String what = String.join(" ", cases.get(i));
                assertEquals(2, r.exit(), what + ": " + r.stderr());
                assertEquals("", r.stdout(), what);
                assertEquals(1, r.stderr().lines().count(), what + ": " + r.stderr());
                assertTrue(r.stderr().startsWith("stratafs: ") && r.stderr().contains(expected.get(i)), what + ": " + r.stderr());
            }
        }
    }

    /** The same on S3: gc frees deleted files' blocks, fsck is clean after it, gc refuses when the server does not answer. */
    @Test
    void onS3GcFreesAndRefusesWhenTheServerIsGone() throws Exception {
        Path serverDir = Files.createTempDirectory(Path.of("/tmp"), "stratafs-gc-s3-");
        S3ProxyServer server = S3ProxyServer.start(serverDir);
        try (MountFixture fs = new MountFixture()) {
            server.createBucket("vol");
            String endpoint = server.endpoint().toString();
            fs.withStorage("s3://vol/gc", "--endpoint", endpoint, "--path-style");
            fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
            fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
            fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
            fs.format().mount();
            write(fs.mnt, Map.of("kept", random(11, 100_000)));
            write(fs.mnt, Map.of("gone", random(12, 100_000)));
            Files.delete(fs.mnt.resolve("gone"));
            fs.umount();

            Shell.Result gc = fs.run("gc", "s3://vol/gc", "--endpoint", endpoint, "--path-style", "--min-age", "0");
            assertEquals(0, gc.exit(), gc.out());
            assertTrue(gc.out().lines().anyMatch(l -> l.startsWith("deleted trash/") && l.endsWith(" (100000 bytes)")), gc.out());
            assertTrue(gc.out().contains(" bytes freed"), gc.out());
            Shell.Result fsck = fs.run("fsck", "s3://vol/gc", "--endpoint", endpoint, "--path-style");
            assertEquals(0, fsck.exit(), fsck.out());

            server.stop();
            Shell.Result refused = fs.run("gc", "s3://vol/gc", "--endpoint", endpoint, "--path-style", "--min-age", "0",
                    "--stall-timeout", "2");
            assertEquals(2, refused.exit(), refused.out());
            assertTrue(refused.out().startsWith("stratafs: gc refused: "), refused.out());
        } finally {
            server.close();
            TempDirs.delete(serverDir);
        }
    }
}
