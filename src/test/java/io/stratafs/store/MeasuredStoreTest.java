package io.stratafs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeasuredStoreTest {
    @TempDir
    Path dir;
    final VolumeMetrics metrics = new VolumeMetrics();

    @Test
    void bytesEachWayAndEveryRequestAreCounted() throws Exception {
        MemoryStore memory = new MemoryStore();
        MeasuredStore store = new MeasuredStore(memory, metrics);
        store.put("a", new byte[1000]);
        store.create("b", new byte[300]);
        Path file = Files.write(dir.resolve("spool"), new byte[4096]);
        store.putFile("c", file);
        store.putAll(List.of("d", "e"), List.of(new byte[20], new byte[7]));
        store.get("a");
        store.getRange("a", 100, 50);
        store.exists("b");
        store.list("");
        store.delete("c");
        assertEquals(1000 + 300 + 4096 + 27, metrics.uploads().total());
        assertEquals(1000 + 50, metrics.downloads().total());
        String target = memory.describe();
        for (String op : new String[] {"put", "create", "put_file", "put_all", "get", "get_range", "exists", "list", "delete"}) {
            assertEquals(1, metrics.storeRequest(op, target).count(), op);
        }
        assertEquals(0, metrics.errors(ErrorKind.TARGET_UNAVAILABLE));
    }

    @Test
    void aMissingObjectOrALostCreateIsAnAnswerButAFaultCountsAsTargetUnavailable() throws Exception {
        MemoryStore memory = new MemoryStore();
        MeasuredStore store = new MeasuredStore(memory, metrics);
        store.create("k", new byte[1]);
        assertThrows(ObjectNotFoundException.class, () -> store.get("missing"));
        assertThrows(ObjectExistsException.class, () -> store.create("k", new byte[1]));
        assertEquals(0, metrics.errors(ErrorKind.TARGET_UNAVAILABLE));

        MeasuredStore down = new MeasuredStore(new ForwardingStore(memory) {
            @Override
            public void put(String key, byte[] data) throws StoreException {
                throw new StoreUnavailableException("connection refused", null);
            }
        }, metrics);
        long uploadedBefore = metrics.uploads().total();
        assertThrows(StoreUnavailableException.class, () -> down.put("x", new byte[10]));
        assertEquals(1, metrics.errors(ErrorKind.TARGET_UNAVAILABLE));
        assertEquals(uploadedBefore, metrics.uploads().total(), "a failed put sent nothing");
        assertEquals(1, metrics.storeRequest("put", memory.describe()).count(), "the failed request is timed too");
    }
}
