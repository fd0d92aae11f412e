package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A copy killed with SIGKILL part way (a daemon's real end, not a hook) is finished by the next run,
 * which copies only what the killed one had not stored; no block is left half written.
 */
class BlockCopierKillTest {
    static final int BLOCKS = 40;
    static final int BLOCK_SIZE = 64 << 10;

    @TempDir
    Path dir;

    /** The killed process: copies the wanted blocks listed in a file, paced so the test can kill it mid-way. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            List<BlockRef> wanted = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of(args[2]))) {
                String[] f = line.split(" ");
                wanted.add(new BlockRef(Bytes.unhex(f[0]), Integer.parseInt(f[1])));
            }
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try (ObjectStore source = new LocalDirStore(Path.of(args[0])); ObjectStore target = new LocalDirStore(Path.of(args[1]))) {
                BlockCopier.builder().targets(List.of(target)).executor(pool).parallelism(2)
                        .bandwidth(BandwidthLimit.of(BandwidthLimit.parse("--sync-bandwidth", "256K"))).build()
                        .copy(wanted, List.of(source), o -> { });
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aKilledCopyIsFinishedByTheNextRunCopyingOnlyTheRest() throws Exception {
        Path source = dir.resolve("peer");
        Path target = dir.resolve("own");
        List<BlockRef> wanted = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        Random random = new Random(40);
        try (ObjectStore peer = new LocalDirStore(source)) {
            for (int i = 0; i < BLOCKS; i++) {
                byte[] data = new byte[BLOCK_SIZE];
                random.nextBytes(data);
                BlockRef ref = new BlockRef(Sha256.of(data), data.length);
                peer.put(ObjectKeys.block(ref.hex()), data);
                wanted.add(ref);
                lines.add(ref.hex() + " " + ref.length());
            }
        }
        Path wantedFile = Files.write(dir.resolve("wanted"), lines);

        // 2.5 MiB at 256 KiB/s with one second's burst: the child needs about 9 s after its first 4 blocks
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), source.toString(), target.toString(), wantedFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        int storedWhenKilled;
        try (LocalDirStore own = new LocalDirStore(target)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (own.list(ObjectKeys.BLOCKS_PREFIX).size() < BLOCKS / 5) {
                assertTrue(child.isAlive(), "the child ended before it was killed: " + Files.readString(dir.resolve("child.log")));
                assertTrue(System.nanoTime() < deadline, "the child never stored a fifth of the blocks");
                Thread.onSpinWait();
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            storedWhenKilled = own.list(ObjectKeys.BLOCKS_PREFIX).size();
            assertTrue(storedWhenKilled < BLOCKS, "killed part way, with " + storedWhenKilled + " blocks stored");

            ExecutorService pool = Executors.newFixedThreadPool(2);
            try (ObjectStore peer = new LocalDirStore(source)) {
                BlockCopier.Summary resumed = BlockCopier.builder().targets(List.of(own)).executor(pool).build()
                        .copy(wanted, List.of(peer), o -> { });
                assertEquals(BLOCKS - storedWhenKilled, resumed.copied(), "only the blocks the killed run had not stored");
                assertEquals(storedWhenKilled, resumed.present());
            } finally {
                pool.shutdownNow();
            }
            for (BlockRef ref : wanted) {
                assertArrayEquals(ref.hash(), Sha256.of(own.get(ObjectKeys.block(ref.hex()))), "whole and good: " + ref.hex());
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
