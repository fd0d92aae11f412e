package io.stratafs.writeback;

import io.stratafs.cache.Sha256;
import io.stratafs.meta.Bytes;
import io.stratafs.store.ObjectExistsException;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Brings a target that lacks history up to date by copying from a target that has it: blocks first,
 * then the journal segments and newest checkpoint the lagging target lacks, so that (invariant 4)
 * nothing copied names a block the target does not hold yet. The segments to copy are listed before
 * the blocks, so every block they name is in the source by the time its blocks are listed.
 */
final class CatchUp {
    private final ObjectStore from;
    private final ObjectStore to;
    private final String site;
    private volatile long copied;
    private volatile long total;

    CatchUp(ObjectStore from, ObjectStore to, String site) {
        this.from = from;
        this.to = to;
        this.site = site;
    }

    long copied() {
        return copied;
    }

    long total() {
        return total;
    }

    String source() {
        return from.describe();
    }

    /** Copies what {@code to} lacks beyond journal record {@code have}; returns the record it now holds up to. */
    long run(long have) throws StoreException {
        List<String> segments = new ArrayList<>();
        long upTo = have;
        for (String key : from.list(ObjectKeys.journalPrefix(site))) {
            if (ObjectKeys.segmentLast(key) > have) {
                segments.add(key);
                upTo = Math.max(upTo, ObjectKeys.segmentLast(key));
            }
        }
        List<String> checkpoints = from.list(ObjectKeys.checkpointPrefix(site));
        String checkpoint = checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
        if (checkpoint != null && ObjectKeys.checkpointSeq(checkpoint) <= have) {
            checkpoint = null;
        }
        if (checkpoint != null) {
            upTo = Math.max(upTo, ObjectKeys.checkpointSeq(checkpoint));
        }
        Set<String> present = new HashSet<>(to.list("blocks/"));
        List<String> blocks = new ArrayList<>();
        for (String key : from.list("blocks/")) {
            if (!present.contains(key)) {
                blocks.add(key);
            }
        }
        total = blocks.size() + segments.size() + (checkpoint == null ? 0 : 1);
        for (String key : blocks) {
            byte[] data = from.get(key);
            String hex = key.substring(key.lastIndexOf('/') + 1);
            if (!Bytes.hex(Sha256.of(data)).equals(hex)) {
                throw new StoreException("object " + key + " in " + from.describe() + " is corrupt (its SHA-256 does not match "
                        + "its name), so it cannot be copied to " + to.describe());
            }
            to.put(key, data);
            copied++;
        }
        for (String key : segments) {
            createSame(key, from.get(key));
        }
        if (checkpoint != null) {
            createSame(checkpoint, from.get(checkpoint));
        }
        return upTo;
    }

    private void createSame(String key, byte[] data) throws StoreException {
        try {
            to.create(key, data);
        } catch (ObjectExistsException e) {
            if (!TargetUploader.sameContent(key, to.get(key), data)) {
                throw new TargetConflictException(key + " differs between " + from.describe() + " and " + to.describe()
                        + ": they hold different histories of the volume; remove one of them from STORAGE");
            }
        }
        copied++;
    }
}
