package io.stratafs.meta;

import java.nio.ByteBuffer;

/** A read view of the key-value store, valid only inside the callback that received it. */
public interface KvTxn {

    /** A copy of the value, or null when the key is absent. */
    byte[] get(Table table, byte[] key);

    /** Whether the key is present, without copying the value. */
    boolean contains(Table table, byte[] key);

    /**
     * Visits the entries whose key starts with {@code prefix}, from {@code start} (inclusive) on, in
     * key order, until the visitor returns false. The buffers are valid only during the call.
     */
    void scan(Table table, byte[] prefix, byte[] start, EntryVisitor visitor);

    default void scan(Table table, byte[] prefix, EntryVisitor visitor) {
        scan(table, prefix, prefix, visitor);
    }

    /** Receives one entry of a scan. */
    @FunctionalInterface
    interface EntryVisitor {
        boolean visit(ByteBuffer key, ByteBuffer value);
    }
}
