package io.stratafs.meta;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The small key-value interface the rest of StrataFS sees instead of LMDB.
 *
 * <p>Writers are serialized: one write transaction at a time. A transaction never outlives the
 * call that opened it. Changes to journaled tables are appended to the journal in the same
 * transaction; a write that changes nothing journaled appends nothing.
 */
public interface Kv extends AutoCloseable {

    <T> T read(Function<KvTxn, T> body);

    /** Runs {@code body} in a write transaction and commits; an exception aborts it. */
    <T> T write(Function<KvWriteTxn, T> body);

    default void writeVoid(Consumer<KvWriteTxn> body) {
        write(txn -> {
            body.accept(txn);
            return null;
        });
    }

    /**
     * Applies mutations replayed from a checkpoint or journal segment, without journaling them again,
     * and continues local journal numbering after {@code lastSeq}.
     */
    void restore(java.util.List<Mutation> mutations, long lastSeq);

    /** The sequence number of the last journal record committed (0 when none). */
    long lastJournalSeq();

    /** Forces everything committed so far to stable storage. */
    void sync();

    /** Bytes used by the store's data file. */
    long usedBytes();

    @Override
    void close();
}
