package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.config.VolumeRecord;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check of each target before its first upload in a mount, with real write-back over local directories. */
class TargetCheckTest {
    @TempDir
    Path dir;

    private static boolean flush(Path cacheDir, VolumeRecord volume, List<ObjectStore> targets, String file) throws Exception {
        try (LmdbKv kv = new LmdbKv(cacheDir, 64L << 20)) {
            BlockCache cache = new BlockCache(kv, targets, TargetIds.assign(kv, targets), 16L << 20, 0, 1);
            Vfs vfs = new Vfs(kv, cache, 64 << 10, io.stratafs.vfs.Clock.SYSTEM, () -> new FsStats(1, 1, 0));
            WriteBack wb = new WriteBack(kv, cache, "main", 2, volume, Arrays.asList(new String[targets.size()]), cacheDir);
            try {
                vfs.initRoot(Caller.ROOT);
                long fh = vfs.create("/" + file, 0644, 2, Caller.ROOT);
                vfs.write(fh, 0, new byte[] {1, 2, 3}, 3);
                vfs.release(fh);
                wb.start();
                return wb.flushAll(60_000);
            } finally {
                wb.close();
                vfs.close();
                cache.close();
            }
        }
    }

    @Test
    void aFreshlyFormattedSingleTargetTakesUploadsAtOnce() throws Exception {
        VolumeRecord volume = VolumeRecord.create("v", 64 << 10, "main");
        LocalDirStore a = new LocalDirStore(dir.resolve("a"));
        a.put(ObjectKeys.VOLUME, volume.encode());
        assertTrue(flush(dir.resolve("cache"), volume, List.of(a), "f"));
        assertTrue(Recovery.lastSeq(a, "main") > 0);
    }

    @Test
    void aTargetAddedToACacheWithHistoryGetsTheRecordTheBlocksAndTheJournal() throws Exception {
        VolumeRecord volume = VolumeRecord.create("v", 64 << 10, "main");
        LocalDirStore a = new LocalDirStore(dir.resolve("a"));
        LocalDirStore added = new LocalDirStore(dir.resolve("added"));
        a.put(ObjectKeys.VOLUME, volume.encode());
        assertTrue(flush(dir.resolve("cache"), volume, List.of(a), "first"));
        assertTrue(flush(dir.resolve("cache"), volume, List.of(added, a), "second"));
        assertArrayEquals(volume.encode(), added.get(ObjectKeys.VOLUME));
        assertEquals(a.list("blocks/"), added.list("blocks/"));
        assertEquals(Recovery.lastSeq(a, "main"), Recovery.lastSeq(added, "main"));
        try (LmdbKv fresh = new LmdbKv(dir.resolve("fresh"), 64L << 20)) {
            assertEquals(Recovery.lastSeq(a, "main"), Recovery.restore(fresh, added, "main"));
        }
    }
}
