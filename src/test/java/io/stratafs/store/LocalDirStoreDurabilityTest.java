package io.stratafs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A put survives a power loss only if every directory on the way to the object is durable: the
 * fan-out directories a put creates, and the entries naming them in their parents, are fsynced
 * before the put returns.
 */
class LocalDirStoreDurabilityTest {
    @TempDir
    Path dir;

    private final List<Path> synced = new ArrayList<>();

    private LocalDirStore recordingStore(Path root) {
        return new LocalDirStore(root, d -> {
            synced.add(d);
            try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
                ch.force(true);
            }
        });
    }

    @Test
    void aPutIntoAFreshTreeSyncsEveryNewDirectoryAndItsParent() throws Exception {
        Path root = dir.resolve("store");
        try (LocalDirStore store = recordingStore(root)) {
            store.put("blocks/ab/abc", new byte[] {1});
        }
        for (Path d : List.of(root.resolve("blocks/ab"), root.resolve("blocks"), root, dir)) {
            assertTrue(synced.contains(d), d + " was not fsynced; synced: " + synced);
        }
    }

    /** Made by another process, or by a concurrent put that has not synced it yet: not trusted until synced. */
    @Test
    void aDirectoryFoundExistingIsSyncedBeforeTheFirstPutBelowItReturns() throws Exception {
        Files.createDirectories(dir.resolve("blocks/ab"));
        try (LocalDirStore store = recordingStore(dir)) {
            store.put("blocks/ab/abc", new byte[] {1});
        }
        for (Path d : List.of(dir.resolve("blocks/ab"), dir.resolve("blocks"), dir)) {
            assertTrue(synced.contains(d), d + " was not fsynced; synced: " + synced);
        }
    }

    @Test
    void laterPutsIntoTheSameDirectorySyncOnlyThatDirectory() throws Exception {
        try (LocalDirStore store = recordingStore(dir)) {
            store.put("journal/main/0001", new byte[] {1});
            synced.clear();
            store.put("journal/main/0002", new byte[] {2});
            store.put("journal/main/0003", new byte[] {3});
        }
        assertEquals(List.of(dir.resolve("journal/main"), dir.resolve("journal/main")), synced);
    }

    @Test
    void directoriesRemovedSinceTheyWereSyncedAreMadeAndSyncedAgain() throws Exception {
        try (LocalDirStore store = recordingStore(dir)) {
            store.put("blocks/ab/abc", new byte[] {1});
            Files.delete(dir.resolve("blocks/ab/abc"));
            Files.delete(dir.resolve("blocks/ab"));
            Files.delete(dir.resolve("blocks"));
            synced.clear();
            store.put("blocks/ab/abc", new byte[] {2});
            assertEquals(2, store.get("blocks/ab/abc")[0]);
        }
        for (Path d : List.of(dir.resolve("blocks/ab"), dir.resolve("blocks"), dir)) {
            assertTrue(synced.contains(d), d + " was not fsynced; synced: " + synced);
        }
    }

    @Test
    void aFailedDirectorySyncFailsThePut() throws IOException {
        try (LocalDirStore store = new LocalDirStore(dir, d -> {
            throw new IOException("injected fsync failure");
        })) {
            StoreException e = org.junit.jupiter.api.Assertions.assertThrows(StoreUnavailableException.class,
                    () -> store.put("blocks/cd/cde", new byte[] {1}));
            assertTrue(e.getMessage().contains("injected fsync failure"), e.getMessage());
        }
    }
}
