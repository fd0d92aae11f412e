package io.stratafs.writeback;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.meta.Bytes;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import io.stratafs.store.TrashedBlocks;
import java.util.List;
import java.util.Set;

/**
 * The uploader's half of gc's safety argument (docs/FORMAT.md, "Garbage collection"): right before
 * a journal segment is published, every block it names that this pass did not upload itself is
 * looked up in the target. Blocks are deduplicated, so a write may name a block the cache already
 * held and never upload it; gc may have moved that block to the trash as unreferenced meanwhile.
 * Such a block is put back from the trash or the local cache, or the segment waits.
 */
final class PublishCheck {
    private PublishCheck() {
    }

    /** The blocks this site holds locally ({@link BlockCache#readLocal}). */
    @FunctionalInterface
    interface LocalBlocks {
        byte[] read(byte[] hash) throws BlockUnavailableException;
    }

    /**
     * Makes sure {@code target} holds every block {@code entries} name, other than those in
     * {@code uploadedThisPass}; returns how many had to be put back.
     */
    static int ensureBlocks(ObjectStore target, LocalBlocks local, List<SegmentCodec.Entry> entries,
                            Set<String> uploadedThisPass) throws StoreException {
        int restored = 0;
        for (String hex : SegmentCodec.blocksNamed(entries).keySet()) {
            if (uploadedThisPass.contains(hex) || target.exists(ObjectKeys.block(hex))) {
                continue;
            }
            try {
                TrashedBlocks.read(target, hex);
            } catch (ObjectNotFoundException notTrashed) {
                // not in the trash either: the local cache is the last place it may be
            }
            if (!target.exists(ObjectKeys.block(hex))) {
                try {
                    target.put(ObjectKeys.block(hex), local.read(Bytes.unhex(hex)));
                } catch (BlockUnavailableException e) {
                    throw new StoreUnavailableException("the journal names block " + hex + ", which " + target.describe()
                            + " no longer holds (was it collected by gc with a short --min-age?) and the local cache lacks; "
                            + "the journal waits until the block is back", e);
                }
            }
            restored++;
        }
        return restored;
    }
}
