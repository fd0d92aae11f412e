package io.stratafs.meta;

/** A write transaction: all changes commit together or not at all. */
public interface KvWriteTxn extends KvTxn {
    void put(Table table, byte[] key, byte[] value);

    /** Returns whether the key was present. */
    boolean delete(Table table, byte[] key);
}
