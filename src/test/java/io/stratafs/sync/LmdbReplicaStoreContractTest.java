package io.stratafs.sync;

import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.LmdbKv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** The LMDB store against the store contract, each store in its own cache directory. */
class LmdbReplicaStoreContractTest extends ReplicaStoreContract {
    @TempDir
    Path dir;
    private final List<LmdbKv> open = new ArrayList<>();

    @Override
    ReplicaStore newStore() {
        LmdbKv kv = new LmdbKv(dir.resolve("cache-" + open.size()), 64L << 20);
        open.add(kv);
        return new LmdbReplicaStore(kv, new PeerCursors());
    }

    @AfterEach
    void close() {
        open.forEach(LmdbKv::close);
    }
}
