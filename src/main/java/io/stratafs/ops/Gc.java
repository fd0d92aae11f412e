package io.stratafs.ops;

import io.stratafs.store.ObjectInfo;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.TrashedBlocks;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Garbage collection of a volume's targets (docs/FORMAT.md, "Garbage collection"). Deletes history
 * superseded by a site's newest checkpoint, and blocks no file references, in two steps: a block
 * found unreferenced is moved to {@code trash/}, where readers still find it; a trashed block is
 * deleted once it has been there for {@code --min-age} and is still unreferenced. Nothing younger
 * than {@code --min-age} is touched, and each object's age is looked up again right before it goes.
 */
public final class Gc {
    /** What gc did (or would do, in a dry run) to one object. */
    public record Action(String verb, String target, String key, long bytes) {
    }

    /** Everything one run did; {@code freedBytes} counts deleted objects only, not blocks moved to the trash. */
    public record Result(List<Action> actions, long freedBytes, int trashed, int restored) {
    }

    /** A seam for tests: runs right before gc removes {@code key} from {@code target}. */
    @FunctionalInterface
    public interface BeforeRemove {
        void run(ObjectStore target, String key) throws StoreException;
    }

    private final VolumeTargets volume;
    private final long minAgeMillis;
    private final boolean dryRun;
    private final LongSupplier clock;
    private final Progress progress;
    private final BeforeRemove beforeRemove;
    private final List<Action> actions = new ArrayList<>();
    private long freed;
    private int trashed;
    private int restored;

    public Gc(VolumeTargets volume, long minAgeMillis, boolean dryRun, LongSupplier clock, Progress progress, BeforeRemove beforeRemove) {
        if (minAgeMillis < 0) {
            throw new IllegalArgumentException("--min-age must not be negative");
        }
        this.volume = volume;
        this.minAgeMillis = minAgeMillis;
        this.dryRun = dryRun;
        this.clock = clock;
        this.progress = progress;
        this.beforeRemove = beforeRemove;
    }

    public Result run() throws StoreException {
        LiveSet live = LiveSet.walk(volume, progress);
        for (ObjectStore t : volume.targets()) {
            collectHistory(t);
        }
        List<ObjectInfo> trashNow = new ArrayList<>();
        for (ObjectStore t : volume.targets()) {
            live.refresh();
            trashUnreferenced(t, live);
        }
        // a mount may have published records naming a block between the listing and its move; the
        // trash's age counts up to this listing, so a record it misses came at least --min-age late
        long listedAt = clock.getAsLong();
        live.refresh();
        for (ObjectStore t : volume.targets()) {
            emptyTrash(t, live, listedAt);
        }
        return new Result(List.copyOf(actions), freed, trashed, restored);
    }

    private boolean oldEnough(ObjectInfo info) {
        return info != null && clock.getAsLong() - info.lastModifiedMillis() >= minAgeMillis;
    }

    private boolean trashedBefore(ObjectInfo info, long listedAt) {
        return info != null && listedAt - info.lastModifiedMillis() >= minAgeMillis;
    }

    /** Per site: every checkpoint but the newest, and the segments that end at or before it. */
    private void collectHistory(ObjectStore t) throws StoreException {
        for (String site : VolumeTargets.sites(t)) {
            List<ObjectInfo> checkpoints = t.listInfo(ObjectKeys.checkpointPrefix(site));
            if (checkpoints.isEmpty()) {
                continue;
            }
            long newest = ObjectKeys.checkpointSeq(checkpoints.get(checkpoints.size() - 1).key());
            List<ObjectInfo> superseded = new ArrayList<>(checkpoints.subList(0, checkpoints.size() - 1));
            for (ObjectInfo seg : t.listInfo(ObjectKeys.journalPrefix(site))) {
                if (Long.compareUnsigned(ObjectKeys.segmentLast(seg.key()), newest) <= 0) {
                    superseded.add(seg);
                }
            }
            progress.phase("removing superseded history of site " + site, superseded.size());
            for (ObjectInfo info : superseded) {
                if (oldEnough(t.stat(info.key()))) {
                    remove(t, info.key(), info.size());
                }
                progress.advance();
            }
        }
    }

    private void trashUnreferenced(ObjectStore t, LiveSet live) throws StoreException {
        List<ObjectInfo> blocks = t.listInfo(ObjectKeys.BLOCKS_PREFIX);
        progress.phase("looking for unreferenced blocks in " + t.describe(), blocks.size());
        for (ObjectInfo info : blocks) {
            String hex = ObjectKeys.blockHex(info.key());
            if (!live.contains(hex) && oldEnough(info) && oldEnough(t.stat(info.key()))) {
                if (dryRun) {
                    actions.add(new Action(minAgeMillis == 0 ? "would delete" : "would move to trash", t.describe(), info.key(), info.size()));
                    if (minAgeMillis == 0) {
                        freed += info.size();
                    }
                } else {
                    moveToTrash(t, info, hex);
                }
            }
            progress.advance();
        }
    }

    /**
     * The copy comes first: blocks are named by their content, so whatever PUT of this key races
     * the delete, the trash holds the same bytes, and a reader that misses the block finds them there.
     */
    private void moveToTrash(ObjectStore t, ObjectInfo info, String hex) throws StoreException {
        byte[] data;
        try {
            data = t.get(info.key());
        } catch (io.stratafs.store.ObjectNotFoundException e) {
            return;
        }
        if (TrashedBlocks.matches(data, hex)) {
            t.put(ObjectKeys.trashedBlock(hex), data);
        }
        beforeRemove.run(t, info.key());
        t.delete(info.key());
        trashed++;
        actions.add(new Action("moved to trash", t.describe(), info.key(), info.size()));
    }

    private void emptyTrash(ObjectStore t, LiveSet live, long listedAt) throws StoreException {
        List<ObjectInfo> trash = t.listInfo(ObjectKeys.TRASH_PREFIX);
        progress.phase("emptying the trash of " + t.describe(), trash.size());
        for (ObjectInfo info : trash) {
            String hex = ObjectKeys.blockHex(info.key());
            if (live.contains(hex)) {
                if (!dryRun) {
                    TrashedBlocks.read(t, hex);
                    if (t.exists(ObjectKeys.block(hex))) {
                        t.delete(info.key());
                        restored++;
                    }
                }
                actions.add(new Action(dryRun ? "would restore" : "restored", t.describe(), ObjectKeys.block(hex), info.size()));
            } else if (trashedBefore(t.stat(info.key()), listedAt)) {
                remove(t, info.key(), info.size());
            }
            progress.advance();
        }
    }

    private void remove(ObjectStore t, String key, long size) throws StoreException {
        if (!dryRun) {
            beforeRemove.run(t, key);
            t.delete(key);
        }
        actions.add(new Action(dryRun ? "would delete" : "deleted", t.describe(), key, size));
        freed += size;
    }
}
