package io.stratafs.sync;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which writes of each site a version of a file has seen: site name to the count of that site's
 * writes to the file. Decides concurrency causally: one version replaces another only if its vector
 * dominates; neither dominating means the two were written concurrently and both are kept.
 * Immutable; entries are kept in site-name order so equal vectors encode equally.
 */
public record VersionVector(Map<String, Long> counts) {
    public static final VersionVector EMPTY = new VersionVector(Map.of());

    public VersionVector {
        counts = java.util.Collections.unmodifiableMap(new TreeMap<>(counts));
    }

    public long get(String site) {
        return counts.getOrDefault(site, 0L);
    }

    /** This vector with {@code site}'s count one higher: the vector of a new write made at {@code site}. */
    public VersionVector increment(String site) {
        Map<String, Long> m = new TreeMap<>(counts);
        m.merge(site, 1L, Long::sum);
        return new VersionVector(m);
    }

    /** The pointwise maximum: the vector of a version that has seen both. */
    public VersionVector join(VersionVector o) {
        Map<String, Long> m = new TreeMap<>(counts);
        o.counts.forEach((s, n) -> m.merge(s, n, Math::max));
        return new VersionVector(m);
    }

    /** Whether every count here is at least the other's: this version has seen everything the other saw. */
    public boolean dominates(VersionVector o) {
        for (Map.Entry<String, Long> e : o.counts.entrySet()) {
            if (get(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Neither dominates the other: written without seeing each other. */
    public boolean concurrentWith(VersionVector o) {
        return !dominates(o) && !o.dominates(this);
    }
}
