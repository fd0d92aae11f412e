package io.stratafs.sync;

import io.stratafs.store.ObjectExistsException;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The sites of a volume as one site finds them: the {@code sites/<name>} records in its own storage,
 * and, transitively, in the storage of every peer those records name that answers. {@link #refresh}
 * copies the records this site's storage lacks into it, so a site that joined through any peer is
 * found by every other site at its next refresh, without a restart (gossip over the storages).
 * A peer that does not answer is reported, never fatal; two different records under one name are
 * reported as a clash and neither replaces the other. Thread-safe: every call reads afresh and
 * keeps nothing between calls.
 */
public final class SiteRegistry {
    /** Opens a peer's storage from its record (the caller closes the stores); the one seam tests replace. */
    @FunctionalInterface
    public interface PeerStores {
        List<ObjectStore> open(SiteRecord site) throws StoreException;
    }

    /** Peers' storage opened with their recorded S3 options and this machine's tuning ({@link SiteRecord#open}). */
    public static PeerStores peerStores(StoreOptions local) {
        return site -> site.open(local);
    }

    /**
     * What a walk found: every site by name; per site that did not answer, why; problems (clashes,
     * records of another volume, unreadable records), each a sentence; and the records copied into this
     * site's storage (by name).
     */
    public record View(Map<String, SiteRecord> sites, Map<String, String> unreachable, List<String> problems, List<String> copied) {
    }

    private final String volume;
    private final String self;
    private final List<ObjectStore> own;
    private final PeerStores peers;

    /** {@code self}: the name of the site whose storage {@code own} is; {@code volume}: the volume's UUID. */
    public SiteRegistry(String volume, String self, List<ObjectStore> own, PeerStores peers) {
        this.volume = volume;
        this.self = self;
        this.own = List.copyOf(own);
        this.peers = peers;
    }

    /** The records in this site's own storage only (union over its targets that answer); writes nothing. */
    public View known() throws StoreException {
        return walk(false).view(List.of());
    }

    /** Walks this site's storage and every reachable peer's; writes nothing. */
    public View discover() throws StoreException {
        return walk(true).view(List.of());
    }

    /** {@link #discover}, then copies every record this site's storage lacks into each of its targets that answered. */
    public View refresh() throws StoreException {
        Walk w = walk(true);
        List<String> copied = new ArrayList<>();
        for (Map.Entry<ObjectStore, Set<String>> held : w.ownHeld.entrySet()) {
            for (SiteRecord r : w.sites.values()) {
                if (held.getValue().contains(r.name())) {
                    continue;
                }
                try {
                    create(held.getKey(), r);
                    if (!copied.contains(r.name())) {
                        copied.add(r.name());
                    }
                } catch (StoreException e) {
                    w.problems.add("cannot copy the record of site " + r.name() + " into " + held.getKey().describe() + ": " + e.getMessage());
                }
            }
        }
        return w.view(copied);
    }

    /**
     * Creates {@code sites/<name>} in a target: an identical record already there is fine (a retried
     * write, or a copy made by another site); a different one is refused with a {@link SiteClashException}.
     */
    public static void create(ObjectStore target, SiteRecord record) throws StoreException {
        String key = ObjectKeys.site(record.name());
        try {
            target.create(key, record.encode());
        } catch (ObjectExistsException e) {
            SiteRecord existing;
            try {
                existing = SiteRecord.decode(target.get(key), key + " in " + target.describe());
            } catch (IllegalArgumentException unreadable) {
                throw new SiteClashException(unreadable.getMessage() + "; refusing to replace it");
            }
            if (!existing.equals(record)) {
                throw new SiteClashException(target.describe() + " already registers another site named \"" + record.name()
                        + "\" (storage " + existing.storage() + "); two sites must never share a name");
            }
        }
    }

    /** The records in one target, by name; records that cannot be read are reported in {@code problems}. */
    static Map<String, SiteRecord> read(ObjectStore target, List<String> problems) throws StoreException {
        Map<String, SiteRecord> out = new TreeMap<>();
        for (String key : target.list(ObjectKeys.SITES_PREFIX)) {
            String where = key + " in " + target.describe();
            try {
                SiteRecord r = SiteRecord.decode(target.get(key), where);
                if (!r.name().equals(ObjectKeys.siteName(key))) {
                    problems.add(where + " names site " + r.name() + "; ignored");
                    continue;
                }
                out.put(r.name(), r);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage() + "; ignored");
            }
        }
        return out;
    }

    /**
     * Refuses a target that holds site records but no volume record (left over from a volume whose
     * record was removed): a new volume or site there would clash with them half-way through.
     */
    public static void requireNoRecords(ObjectStore target) throws StoreException {
        List<String> left = target.list(ObjectKeys.SITES_PREFIX);
        if (!left.isEmpty()) {
            throw new StoreException(target.describe() + " holds site records (" + String.join(", ", left)
                    + ") but no volume record; remove them, or use other storage");
        }
    }

    private Walk walk(boolean peersToo) throws StoreException {
        Walk w = new Walk();
        StoreException ownFailure = null;
        for (ObjectStore t : own) {
            try {
                Map<String, SiteRecord> found = read(t, w.problems);
                w.ownHeld.put(t, new HashSet<>(found.keySet()));
                w.merge(found, "this site's storage " + t.describe());
            } catch (StoreException e) {
                ownFailure = ownFailure == null ? e : ownFailure;
                w.problems.add("cannot read the site records in " + t.describe() + ": " + e.getMessage());
            }
        }
        if (w.ownHeld.isEmpty() && ownFailure != null) {
            throw ownFailure;
        }
        Set<String> visited = new HashSet<>(Set.of(self));
        Deque<String> todo = new ArrayDeque<>(peersToo ? w.sites.keySet() : Set.of());
        while (!todo.isEmpty()) {
            String name = todo.poll();
            if (!visited.add(name)) {
                continue;
            }
            Set<String> before = new HashSet<>(w.sites.keySet());
            w.readPeer(w.sites.get(name));
            for (String added : w.sites.keySet()) {
                if (!before.contains(added)) {
                    todo.add(added);
                }
            }
        }
        return w;
    }

    /** The state of one walk; only the walking thread touches it. */
    private final class Walk {
        final Map<String, SiteRecord> sites = new TreeMap<>();
        final Map<String, String> foundAt = new HashMap<>();
        final Map<String, String> unreachable = new TreeMap<>();
        final List<String> problems = new ArrayList<>();
        final Map<ObjectStore, Set<String>> ownHeld = new LinkedHashMap<>();

        void readPeer(SiteRecord peer) {
            List<ObjectStore> stores;
            try {
                stores = peers.open(peer);
            } catch (StoreException | IllegalArgumentException e) {
                unreachable.put(peer.name(), e.getMessage());
                return;
            }
            try {
                String firstFailure = null;
                boolean answered = false;
                for (ObjectStore t : stores) {
                    try {
                        merge(read(t, problems), "site " + peer.name() + "'s storage " + t.describe());
                        answered = true;
                    } catch (StoreException e) {
                        firstFailure = firstFailure == null ? e.getMessage() : firstFailure;
                    }
                }
                if (!answered) {
                    unreachable.put(peer.name(), firstFailure);
                }
            } finally {
                stores.forEach(ObjectStore::close);
            }
        }

        void merge(Map<String, SiteRecord> found, String where) {
            for (SiteRecord r : found.values()) {
                if (!r.volume().equals(volume)) {
                    problems.add("the record of site " + r.name() + " in " + where + " belongs to volume " + r.volume()
                            + ", not to this volume (" + volume + "); ignored");
                    continue;
                }
                SiteRecord known = sites.get(r.name());
                if (known == null) {
                    sites.put(r.name(), r);
                    foundAt.put(r.name(), where);
                } else if (!known.equals(r)) {
                    problems.add("two different sites are named " + r.name() + ": storage " + known.storage() + " (in "
                            + foundAt.get(r.name()) + ") and storage " + r.storage() + " (in " + where
                            + "); two sites must never share a name: remove the wrong sites/" + r.name());
                }
            }
        }

        View view(List<String> copied) {
            return new View(Collections.unmodifiableMap(sites), Collections.unmodifiableMap(unreachable), List.copyOf(problems), List.copyOf(copied));
        }
    }
}
