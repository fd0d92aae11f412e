package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The oldest change not yet in every target: what status and the metrics report as its age. */
class OldestPendingChangeTest {
    @TempDir
    Path dir;

    private static void change(LmdbKv kv, String key) {
        kv.writeVoid(txn -> txn.put(Table.COUNTER, key.getBytes(StandardCharsets.UTF_8), new byte[] {1}));
    }

    /** Uploads start only after the first measurement, so both changes are pending at first. */
    @Test
    void itIsTheFirstChangeTheTargetFurthestBehindLacksAndNoneOnceAllHaveEverything() throws Exception {
        MemoryStore a = new MemoryStore();
        MemoryStore b = new MemoryStore();
        List<ObjectStore> targets = List.of(a, b);
        try (LmdbKv kv = new LmdbKv(dir.resolve("c"), 64L << 20); BlockCache cache = new BlockCache(kv, targets, 16L << 20, 0)) {
            try (WriteBack wb = new WriteBack(kv, cache, "main", 1, dir)) {
                assertEquals(-1, wb.oldestPendingChangeMillis(), "nothing committed, nothing pending");
                long before = System.currentTimeMillis();
                change(kv, "first");
                long after = System.currentTimeMillis();
                change(kv, "second");
                long oldest = wb.oldestPendingChangeMillis();
                assertTrue(oldest >= before && oldest <= after, "the first change's commit time, not the second's: " + oldest);

                wb.start();
                assertTrue(wb.flushAll(30_000), "both targets take everything");
                assertEquals(-1, wb.oldestPendingChangeMillis());
            }
        }
    }
}
