package io.stratafs.sync;

/** The memory store against the store contract. */
class MemoryReplicaStoreTest extends ReplicaStoreContract {
    @Override
    ReplicaStore newStore() {
        return new MemoryReplicaStore();
    }
}
