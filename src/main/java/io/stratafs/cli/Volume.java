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

    /** The record from the first target that has one; fails with what to run when none has. */
    static VolumeRecord read(List<ObjectStore> targets, String storageArg) throws StoreException {
        StoreException last = null;
        for (ObjectStore t : targets) {
            try {
                return VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe());
            } catch (ObjectNotFoundException e) {
                last = new StoreException(t.describe() + " is not a StrataFS volume (run: stratafs format " + storageArg + ")");
            } catch (IllegalArgumentException e) {
                throw new StoreException(e.getMessage());
            }
        }
        throw last;
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
