package io.stratafs.journal;

import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class LocalDirLogTest extends LogOnStorageContract {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore newStore() {
        return new LocalDirStore(dir);
    }
}
