package io.stratafs.meta;

/**
 * The named tables of the one LMDB environment. Tables marked journaled hold the namespace: every
 * change to them is also appended to {@link #JOURNAL} in the same transaction, so the journal is a
 * complete redo log of the namespace (see docs/FORMAT.md). The replica tables, and the map between
 * replica ids and inode numbers, are journaled with it, so a checkpoint restores both in step.
 */
public enum Table {
    /** inode number (8 bytes, big-endian) → {@link Inode} record. */
    INODE(1, true),
    /** parent inode (8) + name bytes → child inode (8) + file type (1). */
    DENTRY(2, true),
    /** inode (8) + block index (8) → SHA-256 (32) + length (4). Holes have no entry. */
    BLOCKMAP(3, true),
    /** inode (8) + xattr name bytes → value. */
    XATTR(4, true),
    /** inode (8) → symlink target bytes. */
    SYMLINK(5, true),
    /** counter name → 8-byte value (next inode number, ...). */
    COUNTER(6, true),
    /** journal sequence number (8) → encoded list of mutations. */
    JOURNAL(7, false),
    /** SHA-256 (32) → block bytes. */
    CACHE_DATA(8, false),
    /** SHA-256 (32) → length (4) + flags (1). */
    CACHE_INFO(9, false),
    /** target index (1) + SHA-256 (32) → empty: the block still has to reach that target. */
    PENDING(10, false),
    /** local state name → value (uploaded journal sequence, volume record, ...). */
    LOCAL(11, false),
    /** sync node id → replicated node record (journal/ReplicaRecords). */
    REPLICA_NODE(12, true),
    /** sync edge id → replicated edge (name) record. */
    REPLICA_EDGE(13, true),
    /** parent id + name (UTF-8) + 0 + edge id → edge id: the edges placed in a directory, by name. */
    REPLICA_CHILD(14, true),
    /** node id + edge id → edge id: every name of a node. */
    REPLICA_NODE_EDGE(15, true),
    /** move id → directory move record, in id order (the move log). */
    REPLICA_MOVE(16, true),
    /** log position (8) → this site's own envelope (journal/EnvelopeCodec). */
    REPLICA_LOG(17, true),
    /** replica key of a shown entry (node id, or node id + version id of a conflict copy) → inode (8). */
    SITE_KEY(18, true),
    /** inode (8) → its replica key, the content version it shows and that version's vector, last synced change. */
    SITE_INO(19, true),
    /** inode (8) → empty: content committed here that has no Write in this site's log yet. */
    SITE_PENDING(20, true);

    private final int id;
    private final boolean journaled;

    Table(int id, boolean journaled) {
        this.id = id;
        this.journaled = journaled;
    }

    public int id() {
        return id;
    }

    public boolean journaled() {
        return journaled;
    }

    public static Table byId(int id) {
        for (Table t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown table id " + id);
    }
}
