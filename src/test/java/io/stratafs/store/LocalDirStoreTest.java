package io.stratafs.store;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalDirStoreTest extends ObjectStoreContract {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore newStore() {
        return new LocalDirStore(dir);
    }

    @Test
    void checkFailsWithASentenceForAMissingDirectory() {
        LocalDirStore missing = new LocalDirStore(dir.resolve("absent"));
        StoreException e = assertThrows(StoreException.class, missing::check);
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("does not exist"));
    }

    @Test
    void keysCannotEscapeTheRoot() {
        assertThrows(StoreException.class, () -> store.put("../x", new byte[1]));
    }
}
