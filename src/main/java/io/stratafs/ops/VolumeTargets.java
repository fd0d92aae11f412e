package io.stratafs.ops;

import io.stratafs.config.VolumeRecord;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.List;
import java.util.TreeSet;

/**
 * The targets of one volume as fsck and gc need them: every one answering and holding the same
 * volume. Unlike a mount, which carries on without a target that does not answer, these commands
 * refuse: a collector that cannot see every copy of the history cannot know what is still named.
 */
public final class VolumeTargets {
    private final List<ObjectStore> targets;
    private final VolumeRecord volume;

    private VolumeTargets(List<ObjectStore> targets, VolumeRecord volume) {
        this.targets = targets;
        this.volume = volume;
    }

    /** Checks every target; fails with the first reason one of them cannot be used. */
    public static VolumeTargets open(List<ObjectStore> targets) throws StoreException {
        VolumeRecord volume = null;
        ObjectStore holder = null;
        TreeSet<String> seen = new TreeSet<>();
        for (ObjectStore t : targets) {
            if (!seen.add(t.describe())) {
                throw new StoreException(t.describe() + " is listed twice");
            }
            t.check();
            VolumeRecord r;
            try {
                r = VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe());
            } catch (ObjectNotFoundException e) {
                throw new StoreException(t.describe() + " is not a StrataFS volume (it holds no " + ObjectKeys.VOLUME + ")");
            } catch (IllegalArgumentException e) {
                throw new StoreException(e.getMessage());
            }
            if (volume == null) {
                volume = r;
                holder = t;
            } else if (!volume.uuid().equals(r.uuid())) {
                throw new StoreException(t.describe() + " holds another volume, \"" + r.name() + "\" (" + r.uuid() + "), than "
                        + holder.describe() + " (\"" + volume.name() + "\", " + volume.uuid() + ")");
            }
        }
        return new VolumeTargets(List.copyOf(targets), volume);
    }

    public List<ObjectStore> targets() {
        return targets;
    }

    public VolumeRecord volume() {
        return volume;
    }

    /** Every site with a journal or a checkpoint in {@code target}. */
    static TreeSet<String> sites(ObjectStore target) throws StoreException {
        TreeSet<String> sites = new TreeSet<>();
        for (String key : target.list("journal/")) {
            sites.add(ObjectKeys.siteOf(key));
        }
        for (String key : target.list("checkpoint/")) {
            sites.add(ObjectKeys.siteOf(key));
        }
        return sites;
    }
}
