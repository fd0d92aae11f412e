package io.stratafs.journal;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Table;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far this site has applied each peer's log: {@code cursor.<site>} in the COUNTER table (journaled, so a checkpoint restores it with the operations), the last
 * sequence applied (8 bytes). Read and written only inside the caller's transaction, so the sync
 * daemon commits a cursor together with the operations it applied: after a crash both are there or
 * neither is, and nothing is applied twice or skipped. The map of all cursors is what a new
 * envelope carries as its {@code deps}.
 *
 * <p>Also keeps, in memory only, each peer's last exchange and last error for {@code status}; they
 * describe this process's contact with the peer and mean nothing after a restart.
 */
public final class PeerCursors {
    private static final String PREFIX = "cursor.";
    private static final byte[] PREFIX_BYTES = PREFIX.getBytes(StandardCharsets.UTF_8);

    private final Map<String, Contact> contacts = new ConcurrentHashMap<>();

    /** A peer as this process last saw it: the last successful exchange, and the last error after it (null when none). */
    public record Contact(long lastExchangeMillis, String lastError, long lastErrorMillis) {
    }

    /** The last sequence of {@code site}'s log applied here (0 when none). */
    public long applied(KvTxn txn, String site) {
        byte[] v = txn.get(Table.COUNTER, key(site));
        return v == null ? 0 : Bytes.getLong(v, 0);
    }

    /**
     * Records that {@code site}'s log is applied through {@code seq}, in the transaction that applied
     * it. Never moves back: that would apply operations twice.
     */
    public void advance(KvWriteTxn txn, String site, long seq) {
        long now = applied(txn, site);
        if (seq < now) {
            throw new IllegalArgumentException("site " + site + "'s cursor is at " + now + "; it cannot move back to " + seq);
        }
        txn.put(Table.COUNTER, key(site), Bytes.longKey(seq));
    }

    /** Every site's cursor, by site name. */
    public Map<String, Long> all(KvTxn txn) {
        Map<String, Long> out = new TreeMap<>();
        txn.scan(Table.COUNTER, PREFIX_BYTES, (k, v) -> {
            byte[] key = Bytes.toArray(k);
            String site = new String(key, PREFIX_BYTES.length, key.length - PREFIX_BYTES.length, StandardCharsets.UTF_8);
            out.put(site, Bytes.getLong(Bytes.toArray(v), 0));
            return true;
        });
        return out;
    }

    /** A read of the peer's storage succeeded at {@code millis}; clears its last error. */
    public void exchanged(String site, long millis) {
        contacts.put(site, new Contact(millis, null, 0));
    }

    /** A read of the peer's storage or an apply failed at {@code millis} with a sentence for the operator. */
    public void failed(String site, String error, long millis) {
        contacts.merge(site, new Contact(0, error, millis), (old, x) -> new Contact(old.lastExchangeMillis(), error, millis));
    }

    /** The peers this process has exchanged with or failed to, by site name. */
    public Map<String, Contact> contacts() {
        return new TreeMap<>(contacts);
    }

    private static byte[] key(String site) {
        return (PREFIX + site).getBytes(StandardCharsets.UTF_8);
    }
}
