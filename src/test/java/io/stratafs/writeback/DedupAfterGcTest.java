package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real upload pass after gc took away a block the cache still holds: writing that content again
 * is deduplicated (nothing is uploaded), so the pass must put the block back before it publishes
 * the record naming it.
 */
class DedupAfterGcTest {
    private static final byte[] DATA = "content written, deleted, collected, written again".getBytes(StandardCharsets.UTF_8);
    private static final BlockRef REF = new BlockRef(Sha256.of(DATA), DATA.length);
    private static final String KEY = ObjectKeys.block(REF.hex());

    @TempDir
    Path dir;
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final MemoryStore target = new MemoryStore();
    private LmdbKv kv;
    private BlockCache cache;
    private TargetUploader uploader;

    @BeforeEach
    void blockUploadedThenCollected() throws Exception {
        kv = new LmdbKv(dir.resolve("c"), 64L << 20);
        cache = new BlockCache(kv, List.of(target), 1 << 20, 0);
        uploader = new TargetUploader(0, target, kv, cache, "main", pool, dir);
        writeFile(2);
        uploader.pass(false);
        assertTrue(target.exists(KEY));
        target.put(ObjectKeys.trashedBlock(REF.hex()), DATA);
        target.delete(KEY);
    }

    @AfterEach
    void close() {
        pool.shutdownNow();
        cache.close();
        kv.close();
    }

    private void writeFile(long ino) {
        boolean added = kv.write(txn -> {
            boolean a = cache.stageDirty(txn, REF, DATA);
            txn.put(Table.BLOCKMAP, Bytes.inoKey(ino, 0), REF.encode());
            return a;
        });
        cache.committed(REF, DATA, added);
    }

    @Test
    void theBlockComesBackFromTheTrashBeforeTheRecordIsPublished() throws Exception {
        writeFile(3);
        uploader.pass(false);
        assertArrayEquals(DATA, target.get(KEY));
        assertTrue(uploader.caughtUp());
    }

    @Test
    void withTheTrashEmptiedTooTheBlockComesFromTheCache() throws Exception {
        target.delete(ObjectKeys.trashedBlock(REF.hex()));
        writeFile(3);
        uploader.pass(false);
        assertArrayEquals(DATA, target.get(KEY));
        assertFalse(target.exists(ObjectKeys.trashedBlock(REF.hex())));
    }
}
