package io.stratafs.sync;

import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The storage of every peer, opened once from its record (with the S3 options it names and this
 * machine's tuning) and kept open until {@link #close}: a site's daemon reads its peers over and
 * over, and an S3 client with its connection pool is too costly to build for every look. A record
 * that changes (it cannot without a name clash) gets stores of its own. Thread-safe.
 */
public final class OpenPeerStores implements SiteRegistry.PeerStores, AutoCloseable {
    private final StoreOptions local;
    private final Map<SiteRecord, List<ObjectStore>> open = new HashMap<>();
    private boolean closed;

    /** {@code local}: this machine's pool sizes, retries and timeouts ({@link SiteRecord#options}). */
    public OpenPeerStores(StoreOptions local) {
        this.local = local;
    }

    @Override
    public synchronized List<ObjectStore> open(SiteRecord site) throws StoreException {
        if (closed) {
            throw new IllegalStateException("the peers' storage was closed");
        }
        List<ObjectStore> stores = open.get(site);
        if (stores == null) {
            stores = List.copyOf(site.open(local));
            open.put(site, stores);
        }
        return stores;
    }

    @Override
    public synchronized void close() {
        closed = true;
        List<ObjectStore> all = new ArrayList<>();
        open.values().forEach(all::addAll);
        open.clear();
        all.forEach(ObjectStore::close);
    }
}
