package io.stratafs.journal;

import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectStore;

class MemoryLogTest extends LogOnStorageContract {
    @Override
    protected ObjectStore newStore() {
        return new MemoryStore();
    }
}
