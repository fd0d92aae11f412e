package io.stratafs.cli;

import io.stratafs.config.VolumeRecord;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.List;

/** Reads and writes the volume record on a volume's targets. */
final class Volume {
    private Volume() {
    }

    /** What the targets said at mount: the volume's record, and per target why it did not answer (null if it did). */
    record Probe(VolumeRecord record, List<String> unreachable) {
    }

    /**
     * Asks every target for its volume record. Targets that do not answer are listed (the volume
     * mounts without them); a target holding another volume is refused by name; with no answering
     * target holding the volume, the mount is refused with the reason.
     */
    static Probe probe(List<ObjectStore> targets, String storageArg) throws StoreException {
        VolumeRecord volume = null;
        ObjectStore holder = null;
        ObjectStore empty = null;
        StoreException firstFailure = null;
        List<String> unreachable = new java.util.ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (ObjectStore t : targets) {
            if (!seen.add(t.describe())) {
                throw new StoreException(t.describe() + " is listed twice in " + storageArg);
            }
        }
        for (ObjectStore t : targets) {
            VolumeRecord r;
            try {
                t.check();
                r = VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe());
            } catch (ObjectNotFoundException e) {
                empty = empty == null ? t : empty;
                unreachable.add(null);
                continue;
            } catch (IllegalArgumentException e) {
                throw new StoreException(e.getMessage());
            } catch (StoreException e) {
                firstFailure = firstFailure == null ? e : firstFailure;
                unreachable.add(e.getMessage());
                continue;
            }
            if (volume == null) {
                volume = r;
                holder = t;
            } else if (!volume.uuid().equals(r.uuid())) {
                throw new StoreException(t.describe() + " holds another volume, \"" + r.name() + "\" (" + r.uuid() + "), than "
                        + holder.describe() + " (\"" + volume.name() + "\", " + volume.uuid() + "); remove one of them from STORAGE");
            }
            unreachable.add(null);
        }
        if (volume != null) {
            return new Probe(volume, unreachable);
        }
        if (firstFailure != null) {
            throw firstFailure;
        }
        throw new StoreException(empty.describe() + " is not a StrataFS volume (run: stratafs format " + storageArg + ")");
    }

    static void write(List<ObjectStore> targets, VolumeRecord record) throws StoreException {
        for (ObjectStore t : targets) {
            if (t.exists(ObjectKeys.VOLUME)) {
                VolumeRecord existing = VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe());
                throw new StoreException(t.describe() + " already holds StrataFS volume \"" + existing.name()
                        + "\" (" + existing.uuid() + "); refusing to format it again");
            }
        }
        for (ObjectStore t : targets) {
            t.put(ObjectKeys.VOLUME, record.encode());
        }
    }
}
