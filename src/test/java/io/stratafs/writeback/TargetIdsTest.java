package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A target's upload queue belongs to the target, not to its place in the STORAGE list. */
class TargetIdsTest {
    @TempDir
    Path dir;

    private static BlockCache cache(LmdbKv kv, List<ObjectStore> targets) {
        return new BlockCache(kv, targets, TargetIds.assign(kv, targets), 1 << 20, 0, 1);
    }

    @Test
    void reorderingAndAddingTargetsKeepsEachTargetsQueue() {
        ObjectStore a = new LocalDirStore(dir.resolve("a"));
        ObjectStore b = new LocalDirStore(dir.resolve("b"));
        ObjectStore c = new LocalDirStore(dir.resolve("c"));
        try (LmdbKv kv = new LmdbKv(dir.resolve("cache"), 64L << 20); BlockCache first = cache(kv, List.of(a, b))) {
            byte[] data = {1, 2, 3};
            BlockRef ref = new BlockRef(Sha256.of(data), data.length);
            boolean added = kv.write(txn -> first.stageDirty(txn, ref, data));
            first.committed(ref, data, added);
            first.uploaded(0, List.of(ref.hash()));
            assertEquals(0, first.pendingCount(0));
            assertEquals(1, first.pendingCount(1));

            first.close();
            try (BlockCache reordered = cache(kv, List.of(c, b, a))) {
                assertEquals(0, reordered.pendingCount(0), "the new target has no queue of its own yet");
                assertEquals(1, reordered.pendingCount(1), "b still lacks the block");
                assertEquals(0, reordered.pendingCount(2), "a has it");
                assertArrayEquals(new int[] {2, 1, 0}, TargetIds.assign(kv, List.of(c, b, a)));
                reordered.pendAllDirty(0);
                assertEquals(1, reordered.pendingCount(0));
            }
        }
    }
}
