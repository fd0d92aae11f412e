package io.stratafs.sync;

import io.stratafs.config.VolumeRecord;
import io.stratafs.store.ObjectExistsException;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Adds a site to an existing volume ({@code stratafs format STORAGE --site B --join PEER}). Every check
 * comes before the first write, so refused input leaves every storage as it was. Then: the new
 * storage gets the volume record (same UUID, name and block size; its own site name), every known
 * site record and its own; then the peer it joined through registers it (that must succeed, or no
 * peer would ever find the new site); then every other reachable site does. A site that does not
 * answer learns of the new one from any peer at its next {@link SiteRegistry#refresh}. Running the
 * same join again after a failure finishes it: every write is a conditional create that accepts
 * an identical object.
 */
public final class SiteJoin {
    /** What the join did: the new site's volume record and site record, who registered it, who did not answer and why. */
    public record Result(VolumeRecord volume, SiteRecord site, String peer, List<String> registeredAt, Map<String, String> unreachable,
                         List<String> problems) {
    }

    private SiteJoin() {
    }

    /**
     * @param name      the new site's name
     * @param storage   the new site's targets
     * @param reach     how peers reach {@code storage} (recorded in the new site's record)
     * @param peer      the storage of the site to join through, already opened
     * @param peerReach how {@code peer} was reached (recorded for it if it predates site records)
     */
    public static Result join(String name, List<ObjectStore> storage, StoreOptions reach, List<ObjectStore> peer, StoreOptions peerReach,
                              SiteRegistry.PeerStores peers) throws StoreException {
        VolumeRecord volume = peerVolume(peer);
        SiteRecord mine = SiteRecord.of(name, volume.uuid(), storage, reach);
        checkNewStorage(storage, volume, mine);
        SiteRegistry.View known = new SiteRegistry(volume.uuid(), volume.site(), peer, peers).discover();
        SiteRecord joined = known.sites().get(volume.site());
        boolean peerUnregistered = joined == null;
        if (peerUnregistered) {
            // a volume formatted before sites were recorded: its storage is the one given to --join
            joined = SiteRecord.of(volume.site(), volume.uuid(), peer, peerReach);
        }
        checkName(mine, known, joined);

        VolumeRecord ours = new VolumeRecord(volume.formatVersion(), volume.uuid(), volume.name(), volume.blockSize(), name);
        for (ObjectStore t : storage) {
            createVolume(t, ours);
            for (SiteRecord r : known.sites().values()) {
                SiteRegistry.create(t, r);
            }
            SiteRegistry.create(t, joined);
            SiteRegistry.create(t, mine);
        }
        List<String> registeredAt = new ArrayList<>();
        registerAtPeer(peer, peerUnregistered ? List.of(joined, mine) : List.of(mine), name, joined.name());
        registeredAt.add(joined.name());
        Map<String, String> unreachable = new TreeMap<>();
        for (SiteRecord r : known.sites().values()) {
            if (r.name().equals(joined.name()) || r.name().equals(name)) {
                continue;
            }
            try {
                register(peers.open(r), mine);
                registeredAt.add(r.name());
            } catch (StoreException | IllegalArgumentException e) {
                unreachable.put(r.name(), e.getMessage());
            }
        }
        return new Result(ours, mine, joined.name(), registeredAt, unreachable, known.problems());
    }

    private static VolumeRecord peerVolume(List<ObjectStore> peer) throws StoreException {
        StoreException failure = null;
        String empty = null;
        for (ObjectStore t : peer) {
            try {
                t.check();
                return VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe());
            } catch (ObjectNotFoundException e) {
                empty = empty == null ? t.describe() : empty;
            } catch (IllegalArgumentException e) {
                throw new StoreException(e.getMessage());
            } catch (StoreException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (empty != null) {
            throw new StoreException(empty + " holds no StrataFS volume; --join needs the storage of an existing site "
                    + "(one made by stratafs format --site NAME)");
        }
        throw new StoreException("cannot read the volume to join: " + failure.getMessage(), failure);
    }

    /** Refuses storage that holds another volume or another site; the same site of the same volume is a join being finished. */
    private static void checkNewStorage(List<ObjectStore> storage, VolumeRecord volume, SiteRecord mine) throws StoreException {
        for (ObjectStore t : storage) {
            t.check();
            if (!t.exists(ObjectKeys.VOLUME)) {
                SiteRegistry.requireNoRecords(t);
                continue;
            }
            VolumeRecord there = VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe());
            if (!there.uuid().equals(volume.uuid())) {
                throw new StoreException(t.describe() + " already holds another StrataFS volume, \"" + there.name() + "\" ("
                        + there.uuid() + "); a joining site needs storage of its own");
            }
            if (!there.site().equals(mine.name())) {
                throw new StoreException(t.describe() + " is already the storage of site " + there.site()
                        + " of this volume; a joining site needs storage of its own");
            }
        }
    }

    private static void checkName(SiteRecord mine, SiteRegistry.View known, SiteRecord joined) throws StoreException {
        SiteRecord taken = mine.name().equals(joined.name()) ? joined : known.sites().get(mine.name());
        if (taken != null && !taken.equals(mine)) {
            throw new SiteClashException("site name " + mine.name() + " is already taken in volume " + mine.volume()
                    + " by the site whose storage is " + taken.storage() + "; choose another --site");
        }
        for (SiteRecord r : known.sites().values()) {
            for (String target : mine.targets()) {
                if (!r.name().equals(mine.name()) && r.targets().contains(target)) {
                    throw new StoreException(target + " is already the storage of site " + r.name() + "; a joining site needs storage of its own");
                }
            }
        }
    }

    private static void createVolume(ObjectStore t, VolumeRecord record) throws StoreException {
        try {
            t.create(ObjectKeys.VOLUME, record.encode());
        } catch (ObjectExistsException e) {
            if (!VolumeRecord.decode(t.get(ObjectKeys.VOLUME), t.describe()).equals(record)) {
                throw new StoreException(t.describe() + " received another volume record while joining; run the join again");
            }
        }
    }

    /** At least one of the peer's targets must take the records; its other targets learn them by refresh. */
    private static void registerAtPeer(List<ObjectStore> peer, List<SiteRecord> records, String name, String peerName) throws StoreException {
        StoreException failure = null;
        boolean done = false;
        for (ObjectStore t : peer) {
            try {
                for (SiteRecord r : records) {
                    SiteRegistry.create(t, r);
                }
                done = true;
            } catch (SiteClashException e) {
                throw e;
            } catch (StoreException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (!done) {
            throw new StoreException("site " + name + " is formatted, but site " + peerName + " could not register it ("
                    + failure.getMessage() + "); run the same command again to finish the join", failure);
        }
    }

    private static void register(List<ObjectStore> stores, SiteRecord mine) throws StoreException {
        try {
            StoreException failure = null;
            boolean done = false;
            for (ObjectStore t : stores) {
                try {
                    SiteRegistry.create(t, mine);
                    done = true;
                } catch (SiteClashException e) {
                    throw e;
                } catch (StoreException e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (!done) {
                throw failure;
            }
        } finally {
            stores.forEach(ObjectStore::close);
        }
    }
}
