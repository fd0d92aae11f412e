package io.stratafs.store;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
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

    /**
     * Another process (a peer listing this site's storage, or the block copier's check) may list
     * while objects are being written: a file that vanishes between the directory read and its
     * stat (a temporary file renamed into place) is skipped, never a failed listing. A writer
     * threads keep putting objects until the lister has listed 5,000 times; no listing may fail.
     */
    @Test
    void listingWhileObjectsAreBeingWrittenNeverFails() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Throwable> writerFailed = new java.util.concurrent.atomic.AtomicReference<>();
        List<Thread> writers = new java.util.ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int id = w;
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; !done.get(); i++) {
                        store.put("blocks/ab/k" + id + "-" + (i % 50), new byte[64]);
                    }
                } catch (Throwable t) {
                    writerFailed.set(t);
                }
            });
            writer.start();
            writers.add(writer);
        }
        try {
            for (int i = 0; i < 5_000; i++) {
                store.list("blocks/");
            }
        } finally {
            done.set(true);
            for (Thread writer : writers) {
                writer.join();
            }
        }
        org.junit.jupiter.api.Assertions.assertNull(writerFailed.get());
    }
}
