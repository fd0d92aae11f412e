package io.stratafs.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The contract every {@link ObjectStore} must keep; each implementation's test extends this. */
public abstract class ObjectStoreContract {
    protected ObjectStore store;

    protected abstract ObjectStore newStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putThenGetReturnsTheSameBytes() throws Exception {
        store.put("blocks/ab/abc", bytes("hello"));
        assertArrayEquals(bytes("hello"), store.get("blocks/ab/abc"));
        assertTrue(store.exists("blocks/ab/abc"));
    }

    @Test
    void putFileStoresTheFilesBytes() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("stratafs-contract-", ".spool");
        try {
            java.nio.file.Files.write(file, bytes("from a file"));
            store.putFile("checkpoint/main/0000000000000001", file);
            assertArrayEquals(bytes("from a file"), store.get("checkpoint/main/0000000000000001"));
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void putReplacesAnExistingObject() throws Exception {
        store.put("volume", bytes("one"));
        store.put("volume", bytes("two"));
        assertArrayEquals(bytes("two"), store.get("volume"));
    }

    @Test
    void missingKeyIsTypedNotFound() {
        assertThrows(ObjectNotFoundException.class, () -> store.get("nope/x"));
        assertThrows(ObjectNotFoundException.class, () -> store.getRange("nope/x", 0, 4));
    }

    @Test
    void rangeReadsReturnTheSliceAndStopAtTheEnd() throws Exception {
        store.put("r", bytes("0123456789"));
        assertArrayEquals(bytes("345"), store.getRange("r", 3, 3));
        assertArrayEquals(bytes("89"), store.getRange("r", 8, 10));
    }

    @Test
    void listReturnsKeysWithThePrefixInOrder() throws Exception {
        store.put("journal/a/0002", bytes("2"));
        store.put("journal/a/0001", bytes("1"));
        store.put("journal/b/0001", bytes("3"));
        store.put("blocks/00/0000", bytes("4"));
        assertEquals(List.of("journal/a/0001", "journal/a/0002"), store.list("journal/a/"));
        assertEquals(3, store.list("journal/").size());
        assertEquals(List.of(), store.list("checkpoint/"));
    }

    @Test
    void deleteRemovesAndToleratesMissing() throws Exception {
        store.put("d", bytes("x"));
        store.delete("d");
        store.delete("d");
        assertFalse(store.exists("d"));
    }

    @Test
    void emptyObjectsRoundTrip() throws Exception {
        store.put("empty", new byte[0]);
        assertEquals(0, store.get("empty").length);
    }

    @Test
    void checkPassesOnAUsableTarget() throws Exception {
        store.check();
    }

    @Test
    void createStoresANewObject() throws Exception {
        store.create("journal/a/0001", bytes("one"));
        assertArrayEquals(bytes("one"), store.get("journal/a/0001"));
        assertEquals(List.of("journal/a/0001"), store.list("journal/a/"));
    }

    @Test
    void createNeverReplacesAnExistingObject() throws Exception {
        store.create("journal/a/0001", bytes("first writer"));
        assertThrows(ObjectExistsException.class, () -> store.create("journal/a/0001", bytes("second writer")));
        assertThrows(ObjectExistsException.class, () -> store.create("journal/a/0001", bytes("first writer")));
        assertArrayEquals(bytes("first writer"), store.get("journal/a/0001"));
        store.put("stratafs.volume", bytes("v"));
        assertThrows(ObjectExistsException.class, () -> store.create("stratafs.volume", bytes("w")));
        assertArrayEquals(bytes("v"), store.get("stratafs.volume"));
    }

    @Test
    void ofManyConcurrentCreatesOfOneKeyExactlyOneWins() throws Exception {
        int writers = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        try {
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
            for (int i = 0; i < writers; i++) {
                byte[] mine = bytes("writer " + i);
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        store.create("checkpoint/a/0001", mine);
                        return true;
                    } catch (ObjectExistsException e) {
                        return false;
                    }
                }));
            }
            start.countDown();
            int won = -1;
            for (int i = 0; i < writers; i++) {
                if (results.get(i).get()) {
                    assertEquals(-1, won, "two writers both created the key");
                    won = i;
                }
            }
            assertTrue(won >= 0, "no writer created the key");
            assertArrayEquals(bytes("writer " + won), store.get("checkpoint/a/0001"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void listInfoAndStatGiveSizeAndARecentWriteTime() throws Exception {
        long before = System.currentTimeMillis();
        store.put("trash/ab/ab1", bytes("four"));
        store.put("trash/ab/ab2", bytes("fifteen bytes!!"));
        java.util.List<ObjectInfo> infos = store.listInfo("trash/");
        assertEquals(java.util.List.of("trash/ab/ab1", "trash/ab/ab2"), infos.stream().map(ObjectInfo::key).toList());
        assertEquals(4, infos.get(0).size());
        assertEquals(15, infos.get(1).size());
        ObjectInfo one = store.stat("trash/ab/ab1");
        assertEquals(4, one.size());
        // whole seconds on some servers and file systems; a minute covers clock granularity, not skew tests
        assertTrue(Math.abs(one.lastModifiedMillis() - before) < 60_000, "write time " + one.lastModifiedMillis() + " vs " + before);
        assertEquals(null, store.stat("trash/ab/missing"));
    }
}
