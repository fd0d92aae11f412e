package io.stratafs.writeback;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Inode;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of a volume with a million files (three million entries) are written and restored within the daemon's
 * heap (surefire runs unit tests with -Xmx512m, the launcher's bound), and round-trip exactly.
 */
class CheckpointScaleTest {
    @TempDir
    Path dir;

    @Test
    void aMillionFileVolumeIsCheckpointedAndRestoredWithinTheDefaultHeap() throws Exception {
        assertTrue(Runtime.getRuntime().maxMemory() <= 512L << 20,
                "this test proves the 512 MiB heap of the launcher; run it with -Xmx512m (surefire does)");
        ObjectStore target = new LocalDirStore(Files.createDirectories(dir.resolve("store")));
        roundTrip(target, 1_000_000);
    }

    @Test
    void aCheckpointRoundTripsThroughTheMemoryStoreInSeveralBatches() throws Exception {
        roundTrip(new MemoryStore(), CheckpointStream.RESTORE_BATCH * 2 + 7);
    }

    @Test
    void aTruncatedCheckpointIsRefused() throws Exception {
        MemoryStore target = new MemoryStore();
        roundTrip(target, 100);
        String key = target.list(ObjectKeys.checkpointPrefix("main")).get(0);
        byte[] whole = target.get(key);
        target.put(key, Arrays.copyOf(whole, whole.length - 3));
        try (LmdbKv fresh = new LmdbKv(dir.resolve("truncated"), 256L << 20)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Recovery.restore(fresh, target, "main"));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    /** Builds {@code files} files (inode, directory entry, one block each), checkpoints them and restores a fresh cache. */
    private void roundTrip(ObjectStore target, int files) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (LmdbKv kv = new LmdbKv(dir.resolve("source"), 4L << 30); Closer closer = new Closer()) {
            long t0 = System.nanoTime();
            fill(kv, files);
            // one journaled write, so there is a record for the checkpoint to stand at
            kv.writeVoid(txn -> txn.put(Table.COUNTER, "next.ino".getBytes(StandardCharsets.UTF_8), Bytes.longKey(files + 2)));
            long t1 = System.nanoTime();
            BlockCache cache = closer.add(new BlockCache(kv, List.of(target), 64L << 20, 0));
            new TargetUploader(0, target, kv, cache, "main", pool, dir).pass(true);
            long t2 = System.nanoTime();
            List<String> checkpoints = target.list(ObjectKeys.checkpointPrefix("main"));
            assertEquals(List.of(ObjectKeys.checkpoint("main", 1)), checkpoints);
            long size = target instanceof LocalDirStore local ? Files.size(local.root().resolve(checkpoints.get(0)))
                    : target.get(checkpoints.get(0)).length;
            try (LmdbKv fresh = new LmdbKv(dir.resolve("restored-" + files), 4L << 30)) {
                assertEquals(1, Recovery.restore(fresh, target, "main"));
                long t3 = System.nanoTime();
                assertArrayEquals(digest(kv), digest(fresh), "the restored namespace differs from the original");
                assertEquals(1, fresh.lastJournalSeq());
                System.out.printf("checkpoint of %,d entries: %,d bytes; fill %d ms, write+upload %d ms, restore %d ms (max heap %d MiB)%n",
                        3L * files + 1, size, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000,
                        Runtime.getRuntime().maxMemory() >> 20);
            }
            assertEquals(List.of(), Files.list(dir).filter(p -> p.toString().endsWith(".spool")).toList(),
                    "the spool file is removed after the upload");
        } finally {
            pool.shutdownNow();
        }
    }

    private static void fill(LmdbKv kv, int files) {
        List<Mutation> batch = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            long ino = i + 2;
            batch.add(new Mutation(Table.INODE, Bytes.longKey(ino), new Inode(ino, 0100644, 0, 0, 1, i, i, i, i, 0).encode()));
            byte[] child = new byte[9];
            Bytes.putLong(child, 0, ino);
            child[8] = 8;
            long parent = 1 + i / 10_000;
            batch.add(new Mutation(Table.DENTRY, Bytes.inoKey(parent, ("file-" + i).getBytes(StandardCharsets.UTF_8)), child));
            byte[] block = new byte[36];
            Bytes.putLong(block, 0, ino);
            Bytes.putInt(block, 32, i);
            batch.add(new Mutation(Table.BLOCKMAP, Bytes.inoKey(ino, 0), block));
            if (batch.size() >= 20_000) {
                kv.restore(batch, 0);
                batch.clear();
            }
        }
        kv.restore(batch, 0);
    }

    /** SHA-256 over every journaled entry, in key order: equal namespaces, equal digests. */
    private static byte[] digest(LmdbKv kv) {
        return kv.read(txn -> {
            MessageDigest md = sha256();
            for (Table t : Table.values()) {
                if (t.journaled()) {
                    md.update((byte) t.id());
                    txn.scan(t, new byte[0], (k, v) -> {
                        md.update(Bytes.longKey(k.remaining()));
                        md.update(k);
                        md.update(Bytes.longKey(v.remaining()));
                        md.update(v);
                        return true;
                    });
                }
            }
            return md.digest();
        });
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
