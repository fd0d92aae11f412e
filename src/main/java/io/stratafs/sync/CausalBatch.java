package io.stratafs.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch of envelopes being gathered in a causal order: it keeps the cursors the replica would have
 * once the batch so far is applied, and takes an envelope only if it would be ready then, by the rule
 * of {@link Replica#ready} (its site's previous envelope and every dependency on another site
 * applied). So a batch handed over whole is ready envelope by envelope.
 */
final class CausalBatch {
    private final Map<String, Long> cursors;

    /** A batch that starts from the replica's cursors now. */
    CausalBatch(Map<String, Long> cursors) {
        this.cursors = new HashMap<>(cursors);
    }

    /** Takes {@code e} if it is ready after the batch so far; returns whether it did. */
    boolean offer(Envelope e) {
        if (e.seq() != cursors.getOrDefault(e.site(), 0L) + 1) {
            return false;
        }
        for (Map.Entry<String, Long> d : e.deps().entrySet()) {
            if (!d.getKey().equals(e.site()) && cursors.getOrDefault(d.getKey(), 0L) < d.getValue()) {
                return false;
            }
        }
        cursors.put(e.site(), e.seq());
        return true;
    }

    /** The envelopes of {@code envelopes}, in their order, that this batch takes. */
    List<Envelope> offerAll(List<Envelope> envelopes) {
        List<Envelope> taken = new ArrayList<>();
        for (Envelope e : envelopes) {
            if (offer(e)) {
                taken.add(e);
            }
        }
        return taken;
    }
}
