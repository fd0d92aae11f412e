package io.stratafs.meta;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The small key-value interface the rest of StrataFS sees instead of LMDB.
 *
 * <p>Writers are serialized: one write transaction at a time. A transaction never outlives the
 * call that opened it. Changes to journaled tables are appended to the journal in the same
 * transaction; a write that changes nothing journaled appends nothing.
 *
 * <p>Durability (docs/SEMANTICS.md "Durability contract"): a write is visible to every later read,
 * and survives a kill of the process, when {@link #write} returns; it survives a power loss once
 * {@link #sync} returned after it. A read's callback must not write.
 */
public interface Kv extends AutoCloseable {

    <T> T read(Function<KvTxn, T> body);

    /**
     * Runs {@code body} in a write transaction and commits; an exception aborts it. A store that
     * was full runs it again after {@link #onFull}'s callback made room.
     */
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

    /** Makes every write that returned so far survive a power loss. */
    void sync();

    /** Bytes used by the store's data file. */
    long usedBytes();

    /** The most bytes the store's data file may grow to (LMDB's map size). */
    long mapBytes();

    /**
     * Bytes of the pages that hold live entries in every table, as the store itself counts them;
     * pages freed by earlier transactions and reusable are not included.
     */
    long liveBytes();

    /** The size of one page of the store, the unit it allocates in. */
    int pageSize();

    /**
     * Sets what a write transaction that finds the store full calls before giving up: it frees
     * room (in its own transactions) and returns whether it freed any, and the write is retried.
     * Bodies passed to {@link #write} may therefore run more than once.
     */
    void onFull(java.util.function.BooleanSupplier freeRoom);

    @Override
    void close();
}
