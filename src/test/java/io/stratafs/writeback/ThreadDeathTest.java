package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An upload thread that dies of an Error says so in status and fails the next flush at once. */
class ThreadDeathTest {
    @TempDir
    Path dir;

    /** A memory store whose journal uploads throw {@code error}, as an out-of-memory uploader would. */
    private static ObjectStore failingJournalUploads(Error error) {
        MemoryStore memory = new MemoryStore();
        return (ObjectStore) Proxy.newProxyInstance(ObjectStore.class.getClassLoader(), new Class<?>[] {ObjectStore.class},
                (proxy, method, args) -> {
                    if ((method.getName().equals("put") || method.getName().equals("create")) && ((String) args[0]).startsWith("journal/")) {
                        throw error;
                    }
                    try {
                        return method.invoke(memory, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void anUploadThreadKilledByAnErrorShowsInStatusAndFailsTheFlush() throws Exception {
        ObjectStore target = failingJournalUploads(new OutOfMemoryError("Java heap space (simulated)"));
        try (LmdbKv kv = new LmdbKv(dir.resolve("cache"), 256L << 20); BlockCache cache = new BlockCache(kv, List.of(target), 64L << 20, 0)) {
            WriteBack writeBack = new WriteBack(kv, cache, "main", 2, dir);
            try {
                kv.writeVoid(txn -> txn.put(Table.COUNTER, "next.ino".getBytes(StandardCharsets.UTF_8), Bytes.longKey(2)));
                writeBack.start();
                long start = System.nanoTime();
                assertFalse(writeBack.flushAll(120_000), "a flush cannot succeed while the upload thread is dead");
                long waitedMs = (System.nanoTime() - start) / 1_000_000;
                assertTrue(waitedMs < 60_000, "the flush waited " + waitedMs + " ms for a dead thread instead of failing");

                WriteBack.TargetStatus status = writeBack.status(cache).get(0);
                assertFalse(status.healthy(), "a target whose upload thread died is not healthy");
                assertTrue(status.lastError().contains("OutOfMemoryError"), status.lastError());
                assertEquals(1, writeBack.problems().size());
                assertTrue(writeBack.problems().get(0).contains("died"), writeBack.problems().get(0));
            } finally {
                writeBack.close();
            }
        }
    }
}
