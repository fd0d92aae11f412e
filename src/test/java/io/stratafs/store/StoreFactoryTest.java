package io.stratafs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STORAGE arguments: what opens, and the malformed ones refused by a sentence before anything is touched. */
class StoreFactoryTest {
    private static final StoreOptions OPTIONS = StoreOptions.builder().build();

    @Test
    void pathsAndFileUrlsOpenLocalDirectories(@TempDir Path dir) throws StoreException {
        List<ObjectStore> targets = StoreFactory.open(dir + ",file://" + dir.resolve("b"), OPTIONS);
        try {
            assertEquals(List.of("file://" + dir, "file://" + dir.resolve("b")), targets.stream().map(ObjectStore::describe).toList());
        } finally {
            targets.forEach(ObjectStore::close);
        }
    }

    @Test
    void aFileUrlWithoutAnAbsolutePathIsRefused() {
        for (String bad : List.of("file://", "file://relative/dir", "file://host")) {
            StoreException e = assertThrows(StoreException.class, () -> StoreFactory.open(bad, OPTIONS), bad);
            assertTrue(e.getMessage().contains("needs an absolute path after file://"), e.getMessage());
        }
    }

    @Test
    void anEmptyTargetAnywhereInTheListIsRefused(@TempDir Path dir) {
        for (String bad : List.of("", dir + ",", dir + ",,", "," + dir, dir + ", ," + dir)) {
            StoreException e = assertThrows(StoreException.class, () -> StoreFactory.open(bad, OPTIONS), bad);
            assertTrue(e.getMessage().contains("empty storage target"), e.getMessage());
        }
    }

    @Test
    void anUnknownSchemeIsRefused() {
        StoreException e = assertThrows(StoreException.class, () -> StoreFactory.open("ftp://host/x", OPTIONS));
        assertTrue(e.getMessage().contains("unsupported storage \"ftp://host/x\""), e.getMessage());
    }

    @Test
    void aStoragePathThatIsAFileIsNamedAsSuch(@TempDir Path dir) throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("f"), "x");
        List<ObjectStore> targets = StoreFactory.open(file.toString(), OPTIONS);
        try {
            StoreException e = assertThrows(StoreException.class, () -> targets.get(0).check());
            assertEquals("storage " + file + " is not a directory", e.getMessage());
        } finally {
            targets.forEach(ObjectStore::close);
        }
    }
}
