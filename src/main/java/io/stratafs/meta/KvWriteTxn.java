package io.stratafs.meta;

/** A write transaction: all changes commit together or not at all. */
public interface KvWriteTxn extends KvTxn {
    void put(Table table, byte[] key, byte[] value);

    /**
     * As {@link #put}, but the store may keep {@code value} itself instead of a copy until it is
     * committed: the caller never changes the array afterwards (a block's bytes, named by their
     * hash). Spares a copy of every 4 MiB block written.
     */
    default void putImmutable(Table table, byte[] key, byte[] value) {
        put(table, key, value);
    }

    /** Returns whether the key was present. */
    boolean delete(Table table, byte[] key);
}
