package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Namespace;
import io.stratafs.meta.Table;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalIndexTest {
    @TempDir
    Path dir;

    private static TreeSet<Long> contentAndName(JournalIndex index, long ino, long after) {
        TreeSet<Long> out = new TreeSet<>();
        index.contentAndName(ino, after, out);
        return out;
    }

    @Test
    void recordsAreFoundByTheInodesTheyTouchAndForgottenOnceTrimmed() {
        try (LmdbKv kv = new LmdbKv(dir, 64L << 20)) {
            byte[] hash = new byte[32];
            kv.writeVoid(txn -> Namespace.link(txn, Namespace.ROOT, "a", 7, 0100644));
            kv.writeVoid(txn -> Namespace.putXattr(txn, 7, "user.x", new byte[] {1}));
            kv.writeVoid(txn -> Namespace.putBlock(txn, 8, 0, new io.stratafs.meta.BlockRef(hash, 1)));
            kv.writeVoid(txn -> {
                Namespace.unlinkName(txn, Namespace.ROOT, "a");
                Namespace.link(txn, 9, "b", 7, 0100644);
            });
            JournalIndex index = new JournalIndex();
            kv.read(txn -> {
                index.catchUp(txn);
                return null;
            });
            assertEquals(List.of(1L, 2L, 4L), List.copyOf(contentAndName(index, 7, 0)), "its name, its xattr, its rename");
            assertEquals(List.of(4L), List.copyOf(contentAndName(index, 7, 2)));
            assertEquals(List.of(1L, 4L), List.copyOf(contentAndName(index, Namespace.ROOT, 0)), "the root's entries changed");
            assertEquals(List.of(3L), List.copyOf(contentAndName(index, 8, 0)));
            TreeSet<Long> name = new TreeSet<>();
            index.name(9, 0, name);
            assertEquals(List.of(), List.copyOf(name), "9 got an entry, not a name");

            byte[] position = "uploaded.0".getBytes(StandardCharsets.UTF_8);
            kv.writeVoid(txn -> txn.put(Table.LOCAL, position, Bytes.longKey(4)));
            WriteBack.trimJournal(kv, List.of(position));
            kv.read(txn -> {
                index.catchUp(txn);
                return null;
            });
            assertEquals(0, index.size(), "every record is in every target: nothing to remember");
        }
    }
}
