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

    /**
     * A group's temporary files are made durable together before any is renamed over its key, and
     * the renames together before putAll returns: two filesystem syncs for the group, no fsync per
     * object, and after a power loss at any point each object is absent or complete.
     */
    @Test
    void aGroupIsSyncedOnceBeforeItsRenamesAndOnceAfter() throws Exception {
        List<String> keys = List.of("blocks/ab/ab1", "blocks/ab/ab2", "blocks/cd/cd1");
        List<String> seen = new ArrayList<>();
        try (LocalDirStore store = new LocalDirStore(dir, d -> synced.add(d), root -> {
            assertEquals(dir, root);
            long named = keys.stream().filter(k -> Files.exists(dir.resolve(k))).count();
            long tmps;
            try (var files = Files.walk(dir)) {
                tmps = files.filter(p -> p.toString().endsWith(".stratafs-tmp")).count();
            }
            seen.add(named + " named, " + tmps + " temporary");
            return true;
        })) {
            store.put("blocks/ab/warm", new byte[] {0});
            store.put("blocks/cd/warm", new byte[] {0});
            synced.clear();
            store.putAll(keys, List.of(new byte[] {1}, new byte[] {2}, new byte[] {3}));
            assertEquals(List.of("0 named, 3 temporary", "3 named, 0 temporary"), seen);
            assertEquals(List.of(), synced, "a grouped put needs no directory fsync once its directories are durable");
            assertEquals(2, store.get("blocks/ab/ab2")[0]);
            assertEquals(3, store.get("blocks/cd/cd1")[0]);
        }
    }

    /** Without syncfs: each temporary file is fsynced, then each directory once for the whole group. */
    @Test
    void withoutAFilesystemSyncEachDirectoryIsSyncedOncePerGroup() throws Exception {
        try (LocalDirStore store = new LocalDirStore(dir, d -> synced.add(d), root -> false)) {
            store.put("blocks/ab/warm", new byte[] {0});
            store.put("blocks/cd/warm", new byte[] {0});
            synced.clear();
            store.putAll(List.of("blocks/ab/ab1", "blocks/ab/ab2", "blocks/cd/cd1", "blocks/ab/ab3"),
                    List.of(new byte[] {1}, new byte[] {2}, new byte[] {3}, new byte[] {4}));
            assertEquals(List.of(dir.resolve("blocks/ab"), dir.resolve("blocks/cd")), synced);
            assertEquals(4, store.get("blocks/ab/ab3")[0]);
        }
    }

    /** A group whose sync fails is reported, names none of its objects and leaves no temporary file. */
    @Test
    void aFailedGroupSyncFailsThePutAndLeavesNothingBehind() throws Exception {
        try (LocalDirStore store = new LocalDirStore(dir, d -> { }, root -> {
            throw new IOException("injected syncfs failure");
        })) {
            StoreException e = org.junit.jupiter.api.Assertions.assertThrows(StoreUnavailableException.class,
                    () -> store.putAll(List.of("blocks/ab/ab1", "blocks/cd/cd1"), List.of(new byte[] {1}, new byte[] {2})));
            assertTrue(e.getMessage().contains("injected syncfs failure"), e.getMessage());
            assertEquals(List.of(), store.list(""));
            try (var files = Files.walk(dir)) {
                assertEquals(0, files.filter(p -> p.toString().endsWith(".stratafs-tmp")).count());
            }
        }
    }

    /** The real syncfs (Linux): a group lands complete and readable. */
    @Test
    void aGroupPutWithTheSystemsSyncIsReadable() throws Exception {
        try (LocalDirStore store = new LocalDirStore(dir)) {
            List<String> keys = new ArrayList<>();
            List<byte[]> data = new ArrayList<>();
            for (int i = 0; i < 70; i++) {
                keys.add(String.format("blocks/%02x/%02x%04d", i % 7, i % 7, i));
                data.add(new byte[] {(byte) i, 7});
            }
            store.putAll(keys, data);
            for (int i = 0; i < 70; i++) {
                assertEquals(i, store.get(keys.get(i))[0]);
            }
            assertEquals(70, store.list("blocks/").size());
        }
    }
}
