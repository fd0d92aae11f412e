package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The uploader's check before it publishes a segment: a deduplicated block (named, never uploaded)
 * that gc moved away is put back first, from the trash or the local cache, or the segment waits.
 */
class PublishCheckTest {
    private static final byte[] BLOCK = "a block the cache already held".getBytes(StandardCharsets.UTF_8);
    private static final String HEX = Bytes.hex(Sha256.of(BLOCK));
    private static final List<SegmentCodec.Entry> NAMING_IT = List.of(new SegmentCodec.Entry(7, JournalCodec.encode(0, List.of(
            new Mutation(Table.BLOCKMAP, Bytes.inoKey(2, 0), new BlockRef(Sha256.of(BLOCK), BLOCK.length).encode())))));
    private static final PublishCheck.LocalBlocks NO_CACHE = hash -> {
        throw new BlockUnavailableException("evicted");
    };

    @Test
    void aBlockGcMovedToTheTrashIsPutBackBeforeTheSegment() throws Exception {
        MemoryStore target = new MemoryStore();
        target.put(ObjectKeys.trashedBlock(HEX), BLOCK);
        assertEquals(1, PublishCheck.ensureBlocks(target, NO_CACHE, NAMING_IT, Set.of()));
        assertArrayEquals(BLOCK, target.get(ObjectKeys.block(HEX)));
    }

    @Test
    void aBlockGoneFromTheTargetIsPutFromTheLocalCache() throws Exception {
        MemoryStore target = new MemoryStore();
        assertEquals(1, PublishCheck.ensureBlocks(target, hash -> BLOCK.clone(), NAMING_IT, Set.of()));
        assertArrayEquals(BLOCK, target.get(ObjectKeys.block(HEX)));
    }

    @Test
    void aBlockNowhereToBeFoundHoldsTheSegmentBack() {
        StoreException e = assertThrows(StoreUnavailableException.class,
                () -> PublishCheck.ensureBlocks(new MemoryStore(), NO_CACHE, NAMING_IT, Set.of()));
        assertTrue(e.getMessage().contains("the journal waits"), e.getMessage());
    }

    @Test
    void blocksThisPassUploadedAndBlocksPresentCostNothingMore() throws Exception {
        List<String> lookedUp = new ArrayList<>();
        MemoryStore inner = new MemoryStore();
        inner.put(ObjectKeys.block(HEX), BLOCK);
        ForwardingStore target = new ForwardingStore(inner) {
            @Override
            public boolean exists(String key) throws StoreException {
                lookedUp.add(key);
                return super.exists(key);
            }
        };
        assertEquals(0, PublishCheck.ensureBlocks(target, NO_CACHE, NAMING_IT, Set.of(HEX)));
        assertTrue(lookedUp.isEmpty());
        assertEquals(0, PublishCheck.ensureBlocks(target, NO_CACHE, NAMING_IT, Set.of()));
        assertEquals(List.of(ObjectKeys.block(HEX)), lookedUp);
        assertFalse(inner.exists(ObjectKeys.trashedBlock(HEX)));
    }
}
