package io.stratafs.sync;

import java.util.Map;

/**
 * An operation as a site's log holds it: the author site, its place in that site's log (1, 2, ...
 * with no gaps) and how far the author had applied every other site's log when it made the
 * operation. A peer applies an envelope only after everything in {@code deps} and the author's
 * previous envelope, so every site sees causes before effects.
 */
public record Envelope(String site, long seq, Map<String, Long> deps, Op op) {
    public Envelope {
        deps = Map.copyOf(deps);
        if (seq < 1) {
            throw new IllegalArgumentException("log positions start at 1, not " + seq);
        }
        if (!op.id().site().equals(site)) {
            throw new IllegalArgumentException("operation " + op.id() + " is not site " + site + "'s");
        }
    }
}
