package io.stratafs.ops;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Inode;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.MetaException;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.writeback.Recovery;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One site's namespace as one target holds it (newest checkpoint, then the journal after it),
 * replayed by the same code a mount recovers with into a throw-away LMDB environment, so a volume of
 * millions of files is walked from disk rather than from the heap.
 */
final class SiteNamespace implements AutoCloseable {
    /** LMDB reserves address space, not disk: the file grows only as the namespace needs. */
    private static final long MAP_BYTES = 64L << 30;
    private static final long ROOT = 1;

    final ObjectStore target;
    final String site;
    final long lastSeq;
    private final LmdbKv kv;
    private final Path dir;

    private SiteNamespace(ObjectStore target, String site, long lastSeq, LmdbKv kv, Path dir) {
        this.target = target;
        this.site = site;
        this.lastSeq = lastSeq;
        this.kv = kv;
        this.dir = dir;
    }

    /** Replays {@code site}'s history in {@code target}; fails with the reason it cannot be replayed. */
    static SiteNamespace restore(ObjectStore target, String site) throws StoreException {
        Path dir;
        try {
            dir = Files.createTempDirectory("stratafs-ops-");
        } catch (IOException e) {
            throw new StoreException("cannot create a work directory in " + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
        }
        LmdbKv kv = null;
        try {
            kv = new LmdbKv(dir, MAP_BYTES);
            long seq = Recovery.restore(kv, target, site);
            return new SiteNamespace(target, site, seq, kv, dir);
        } catch (StoreException | RuntimeException e) {
            if (kv != null) {
                kv.close();
            }
            removeTree(dir);
            if (e instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("cannot replay the journal of site " + site + " in " + target.describe() + ": " + e.getMessage(), e);
        }
    }

    /** Adds every block a file references (hash in hex, and its length) to {@code into}. */
    void collectBlocks(Map<String, Integer> into) {
        kv.read(txn -> {
            txn.scan(Table.BLOCKMAP, new byte[0], (k, v) -> {
                BlockRef ref = BlockRef.decode(Bytes.toArray(v));
                into.put(ref.hex(), ref.length());
                return true;
            });
            return null;
        });
    }

    /**
     * What is wrong with the namespace's shape: inodes no directory entry reaches from the root
     * (an unlinked file still open, link count 0, is not wrong), entries naming no inode, block
     * lists of inodes that do not exist.
     */
    List<String> shapeProblems() {
        Map<Long, Integer> nlinks = new HashMap<>();
        Map<Long, List<Long>> children = new HashMap<>();
        List<String> problems = new ArrayList<>();
        Set<Long> blockOwners = new HashSet<>();
        kv.read(txn -> {
            txn.scan(Table.INODE, new byte[0], (k, v) -> {
                long ino = k.getLong(k.position());
                try {
                    nlinks.put(ino, Inode.decode(ino, Bytes.toArray(v)).nlink());
                } catch (MetaException e) {
                    problems.add(e.getMessage());
                    nlinks.put(ino, 1);
                }
                return true;
            });
            txn.scan(Table.DENTRY, new byte[0], (k, v) -> {
                long parent = k.getLong(k.position());
                children.computeIfAbsent(parent, p -> new ArrayList<>()).add(v.getLong(v.position()));
                return true;
            });
            txn.scan(Table.BLOCKMAP, new byte[0], (k, v) -> {
                blockOwners.add(k.getLong(k.position()));
                return true;
            });
            return null;
        });
        if (!nlinks.containsKey(ROOT)) {
            problems.add(where() + ": the root directory (inode 1) is missing");
        }
        Set<Long> reached = new HashSet<>();
        ArrayDeque<Long> todo = new ArrayDeque<>(List.of(ROOT));
        reached.add(ROOT);
        while (!todo.isEmpty()) {
            long dirIno = todo.poll();
            for (long child : children.getOrDefault(dirIno, List.of())) {
                if (!nlinks.containsKey(child)) {
                    problems.add(where() + ": a directory entry in inode " + dirIno + " names inode " + child + ", which does not exist");
                } else if (reached.add(child)) {
                    todo.add(child);
                }
            }
        }
        nlinks.forEach((ino, nlink) -> {
            if (!reached.contains(ino) && nlink > 0) {
                problems.add(where() + ": inode " + ino + " is not reachable from the root");
            }
        });
        blockOwners.stream().sorted().filter(ino -> !nlinks.containsKey(ino)).forEach(ino ->
                problems.add(where() + ": a block list belongs to inode " + ino + ", which does not exist"));
        return problems;
    }

    private String where() {
        return "site " + site + " in " + target.describe();
    }

    @Override
    public void close() {
        kv.close();
        removeTree(dir);
    }

    private static void removeTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a leftover work directory holds a copy of metadata already in the target, nothing more
        }
    }
}
