package io.stratafs.writeback;

import io.stratafs.cache.BlockCache;
import io.stratafs.config.Sizes;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Namespace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.LongUnaryOperator;

/**
 * Whether a file's current content and name are in every storage target ({@code user.stratafs.synced},
 * {@code stratafs status PATH}). A file is synced for a target when the target holds every block its
 * block map references (none of them is in the target's upload queue) and every journal record that
 * changed the file, or gave it or one of its ancestor directories its name (none has a sequence number
 * above the target's upload position; {@link JournalIndex} makes that a lookup). Uploads keep journal
 * order, so a record at or below the position is in the target. A target whose upload queue cannot be
 * trusted yet (not checked in this mount, being caught up, stopped) counts as lacking everything.
 */
public final class SyncState {
    private final Kv kv;
    private final BlockCache cache;
    private final WriteBack writeBack;
    private final JournalIndex index = new JournalIndex();

    public SyncState(Kv kv, BlockCache cache, WriteBack writeBack) {
        this.kv = kv;
        this.cache = cache;
        this.writeBack = writeBack;
    }

    /** The state of one file or directory; {@code chain} holds the inodes from the root to it. */
    public FileSync file(long[] chain, long uncommittedBytes) {
        return file(writeBack.positions(), chain, uncommittedBytes);
    }

    /**
     * The positions are read before the snapshot the rest comes from: a position can only move
     * forward meanwhile, so an older one errs towards "pending", never towards "synced".
     */
    private FileSync file(List<WriteBack.TargetPosition> positions, long[] chain, long uncommittedBytes) {
        long oldest = positions.stream().mapToLong(WriteBack.TargetPosition::uploadedSeq).min().orElse(Long.MAX_VALUE);
        return kv.read(txn -> {
            index.catchUp(txn);
            long ino = chain[chain.length - 1];
            TreeSet<Long> records = new TreeSet<>();
            index.contentAndName(ino, oldest, records);
            for (int i = 0; i < chain.length - 1; i++) {
                index.name(chain[i], oldest, records);
            }
            Map<String, BlockRef> refs = new LinkedHashMap<>();
            Namespace.blocks(txn, ino, 0, Long.MAX_VALUE, (i, ref) -> refs.putIfAbsent(ref.hex(), ref));
            Map<String, Integer> pendingBlocks = new HashMap<>();
            List<TargetLag> lags = new ArrayList<>();
            for (WriteBack.TargetPosition p : positions) {
                long blocks = 0;
                long bytes = 0;
                for (BlockRef ref : refs.values()) {
                    if (cache.isPending(txn, p.index(), ref.hash())) {
                        blocks++;
                        bytes += ref.length();
                        pendingBlocks.put(ref.hex(), ref.length());
                    }
                }
                lags.add(new TargetLag(p.target(), blocks, bytes, records.tailSet(p.uploadedSeq() + 1).size(), p.notReady()));
            }
            return new FileSync(lags, uncommittedBytes, pendingBlocks, records);
        });
    }

    /**
     * The state of a whole tree, walked from {@code chain}'s last inode; {@code uncommitted} gives an
     * inode's bytes written but not yet committed; at most {@code maxListed} pending paths are named.
     */
    public TreeSync tree(long[] chain, LongUnaryOperator uncommitted, int maxListed) {
        List<WriteBack.TargetPosition> positions = writeBack.positions();
        TreeSync out = new TreeSync(maxListed);
        Deque<Item> todo = new ArrayDeque<>();
        todo.push(new Item(chain, ""));
        while (!todo.isEmpty()) {
            Item item = todo.pop();
            long ino = item.chain[item.chain.length - 1];
            Inode inode = kv.read(txn -> Namespace.inode(txn, ino));
            if (inode == null) {
                continue;
            }
            out.add(item.path, inode.isDir(), file(positions, item.chain, uncommitted.applyAsLong(ino)));
            if (inode.isDir()) {
                pushChildren(item, ino, todo);
            }
        }
        return out;
    }

    private void pushChildren(Item dir, long ino, Deque<Item> todo) {
        String after = null;
        while (true) {
            String from = after;
            List<DirEntry> batch = kv.read(txn -> Namespace.list(txn, ino, from, 1000));
            for (DirEntry e : batch) {
                long[] chain = Arrays.copyOf(dir.chain, dir.chain.length + 1);
                chain[chain.length - 1] = e.ino();
                todo.push(new Item(chain, dir.path + "/" + e.name()));
            }
            if (batch.size() < 1000) {
                return;
            }
            after = batch.get(batch.size() - 1).name();
        }
    }

    private record Item(long[] chain, String path) {
    }

    /** What one target lacks of a file; {@code notReady} says why its queue cannot be trusted, or null. */
    public record TargetLag(String target, long blocks, long blockBytes, long journalEntries, String notReady) {
        boolean inStep() {
            return blocks == 0 && journalEntries == 0 && notReady == null;
        }
    }

    /**
     * One file's state: per target what it lacks, bytes not yet committed from open handles, the
     * blocks pending for some target (hash → length) and the journal records not in every target.
     */
    public record FileSync(List<TargetLag> lags, long uncommittedBytes, Map<String, Integer> pendingBlocks,
                           SortedSet<Long> records) {
        public boolean synced() {
            return uncommittedBytes == 0 && lags.stream().allMatch(TargetLag::inStep);
        }

        /** Bytes that are not yet in every target: pending blocks and uncommitted writes. */
        public long pendingBytes() {
            return uncommittedBytes + pendingBlocks.values().stream().mapToLong(Integer::longValue).sum();
        }

        /** {@code yes}, or {@code no: } and what is pending, per target. */
        public String describe() {
            if (synced()) {
                return "yes";
            }
            List<String> parts = new ArrayList<>();
            for (TargetLag l : lags) {
                if (l.notReady() != null) {
                    parts.add("target " + l.target() + " cannot be counted on yet: " + l.notReady());
                } else if (!l.inStep()) {
                    List<String> what = new ArrayList<>();
                    if (l.blocks() > 0) {
                        what.add(count(l.blocks(), "block", "blocks") + " (" + Sizes.human(l.blockBytes()) + ")");
                    }
                    if (l.journalEntries() > 0) {
                        what.add(count(l.journalEntries(), "journal entry", "journal entries"));
                    }
                    parts.add(String.join(", ", what) + " pending for target " + l.target());
                }
            }
            if (uncommittedBytes > 0) {
                parts.add(Sizes.human(uncommittedBytes) + " not yet committed");
            }
            return "no: " + String.join("; ", parts);
        }
    }

    static String count(long n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }

    /** Totals over a tree, and the first pending paths (relative to the tree's root, "" for the root). */
    public static final class TreeSync {
        private final int maxListed;
        private final Map<String, Integer> pendingBlocks = new HashMap<>();
        private final TreeSet<Long> records = new TreeSet<>();
        private final Map<String, String> pending = new LinkedHashMap<>();
        private long files;
        private long filesPending;
        private long directories;
        private long directoriesPending;
        private long uncommittedBytes;
        private String rootDescription;
        private boolean rootIsDirectory;

        TreeSync(int maxListed) {
            this.maxListed = maxListed;
        }

        void add(String path, boolean dir, FileSync s) {
            if (path.isEmpty()) {
                rootDescription = s.describe();
                rootIsDirectory = dir;
            }
            boolean synced = s.synced();
            if (dir) {
                directories++;
                directoriesPending += synced ? 0 : 1;
            } else {
                files++;
                filesPending += synced ? 0 : 1;
            }
            if (!synced) {
                pendingBlocks.putAll(s.pendingBlocks());
                records.addAll(s.records());
                uncommittedBytes += s.uncommittedBytes();
                if (pending.size() < maxListed) {
                    pending.put(path, s.describe());
                }
            }
        }

        public boolean synced() {
            return filesPending == 0 && directoriesPending == 0;
        }

        public long files() {
            return files;
        }

        public long filesPending() {
            return filesPending;
        }

        public long directories() {
            return directories;
        }

        public long directoriesPending() {
            return directoriesPending;
        }

        /** Distinct pending blocks' bytes plus uncommitted bytes. */
        public long bytesPending() {
            return uncommittedBytes + pendingBlocks.values().stream().mapToLong(Integer::longValue).sum();
        }

        /** Journal records not yet in every target that touch something in the tree. */
        public long journalEntriesPending() {
            return records.size();
        }

        /** The tree root's own answer, as the xattr gives it. */
        public String rootDescription() {
            return rootDescription;
        }

        public boolean rootIsDirectory() {
            return rootIsDirectory;
        }

        /** Pending paths (relative, "" for the root) with what is pending, at most the listing limit. */
        public Map<String, String> pending() {
            return pending;
        }

        /** Whether more paths are pending than {@link #pending()} names. */
        public boolean truncated() {
            return filesPending + directoriesPending > pending.size();
        }
    }
}
