package io.stratafs.store;

class MemoryStoreTest extends ObjectStoreContract {
    @Override
    protected ObjectStore newStore() {
        return new MemoryStore();
    }
}
