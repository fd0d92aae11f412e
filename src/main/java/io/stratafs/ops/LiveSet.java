package io.stratafs.ops;

import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.writeback.SegmentCodec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The blocks some file references: the union, over every target and every site found in it, of
 * the blocks in that site's namespace (newest checkpoint and the journal after it). Remembers which
 * history objects it read, so {@link #refresh} can add what was published since.
 */
final class LiveSet {
    private final Map<String, Integer> blocks = new HashMap<>();
    private final Map<ObjectStore, Set<String>> historySeen = new HashMap<>();

    static LiveSet walk(VolumeTargets volume, Progress progress) throws StoreException {
        LiveSet live = new LiveSet();
        progress.phase("reading the journals", volume.targets().size());
        for (ObjectStore t : volume.targets()) {
            Set<String> seen = live.historySeen.computeIfAbsent(t, k -> new HashSet<>());
            seen.addAll(history(t));
            for (String site : VolumeTargets.sites(t)) {
                try (SiteNamespace ns = SiteNamespace.restore(t, site)) {
                    ns.collectBlocks(live.blocks);
                }
            }
            progress.advance();
        }
        return live;
    }

    boolean contains(String hashHex) {
        return blocks.containsKey(hashHex);
    }

    Map<String, Integer> blocks() {
        return blocks;
    }

    /**
     * Adds the blocks named by journal segments and checkpoints that appeared since they were last
     * read (a mount published them meanwhile); returns how many such objects there were.
     */
    int refresh() throws StoreException {
        int fresh = 0;
        for (Map.Entry<ObjectStore, Set<String>> e : historySeen.entrySet()) {
            ObjectStore t = e.getKey();
            Set<String> replaySites = new HashSet<>();
            for (String key : history(t)) {
                if (!e.getValue().add(key)) {
                    continue;
                }
                fresh++;
                if (key.startsWith("journal/")) {
                    try {
                        blocks.putAll(SegmentCodec.blocksNamed(SegmentCodec.decodeSegment(t.get(key), key)));
                    } catch (IllegalArgumentException ex) {
                        throw new StoreException(ex.getMessage() + " in " + t.describe() + " (run stratafs fsck)", ex);
                    }
                } else {
                    replaySites.add(ObjectKeys.siteOf(key));
                }
            }
            for (String site : replaySites) {
                try (SiteNamespace ns = SiteNamespace.restore(t, site)) {
                    ns.collectBlocks(blocks);
                }
            }
        }
        return fresh;
    }

    private static Set<String> history(ObjectStore t) throws StoreException {
        Set<String> keys = new HashSet<>(t.list("journal/"));
        keys.addAll(t.list("checkpoint/"));
        return keys;
    }
}
