package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerCursorsTest {
    @TempDir
    Path dir;
    final PeerCursors cursors = new PeerCursors();
    static final byte[] APPLIED = Bytes.longKey(77);

    @Test
    void aCursorCommitsWithTheOperationsItAppliedOrNotAtAll() {
        try (LmdbKv kv = new LmdbKv(dir, 64L << 20)) {
            kv.writeVoid(txn -> {
                txn.put(Table.INODE, APPLIED, new byte[] {1});
                cursors.advance(txn, "B", 5);
            });
            assertThrows(IllegalStateException.class, () -> kv.writeVoid(txn -> {
                txn.put(Table.INODE, Bytes.longKey(78), new byte[] {2});
                cursors.advance(txn, "B", 9);
                throw new IllegalStateException("the apply failed half-way");
            }));
            assertEquals(5L, kv.read(txn -> cursors.applied(txn, "B")).longValue());
            assertNull(kv.read(txn -> txn.get(Table.INODE, Bytes.longKey(78))));
        }
        try (LmdbKv reopened = new LmdbKv(dir, 64L << 20)) {
            assertEquals(5L, reopened.read(txn -> cursors.applied(txn, "B")).longValue());
            assertEquals(1, reopened.read(txn -> txn.get(Table.INODE, APPLIED))[0]);
        }
    }

    @Test
    void allCursorsAreTheDepsOfANewEnvelopeAndNeverMoveBack() {
        try (LmdbKv kv = new LmdbKv(dir, 64L << 20)) {
            assertEquals(0L, kv.read(txn -> cursors.applied(txn, "B")).longValue());
            kv.writeVoid(txn -> {
                cursors.advance(txn, "B", 3);
                cursors.advance(txn, "dc.eu-1", 12);
                cursors.advance(txn, "B", 4);
                txn.put(Table.COUNTER, "cursorless".getBytes(java.nio.charset.StandardCharsets.UTF_8), Bytes.longKey(1));
            });
            assertEquals(Map.of("B", 4L, "dc.eu-1", 12L), kv.read(cursors::all));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> kv.writeVoid(txn -> cursors.advance(txn, "B", 2)));
            assertEquals("site B's cursor is at 4; it cannot move back to 2", e.getMessage());
        }
    }

    @Test
    void theLastExchangeAndTheLastErrorPerPeerAreKeptForStatus() {
        cursors.failed("C", "cannot reach http://127.0.0.1:9", 100);
        cursors.exchanged("B", 200);
        cursors.failed("B", "journal/B/... is corrupt", 300);
        assertEquals(Map.of("B", new PeerCursors.Contact(200, "journal/B/... is corrupt", 300),
                "C", new PeerCursors.Contact(0, "cannot reach http://127.0.0.1:9", 100)), cursors.contacts());
        cursors.exchanged("B", 400);
        assertEquals(new PeerCursors.Contact(400, null, 0), cursors.contacts().get("B"));
    }
}
