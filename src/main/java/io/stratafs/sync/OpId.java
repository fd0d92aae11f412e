package io.stratafs.sync;

/**
 * Names one operation: the hybrid-clock stamp its site gave it and the site's name. Unique across
 * sites, because a site never issues the same stamp twice. Ordered by stamp, then site name, which is
 * the order every site uses to settle what clocks alone cannot (last writer, concurrent moves).
 *
 * <p>Files, directories and names are identified by the id of the operation that created them, so
 * identities are unique across sites with no coordination. {@link #ROOT} is the root directory.
 */
public record OpId(long hlc, String site) implements Comparable<OpId> {
    public static final OpId ROOT = new OpId(0, "");

    public OpId {
        if (site == null) {
            throw new IllegalArgumentException("an operation id needs a site");
        }
    }

    @Override
    public int compareTo(OpId o) {
        int c = Long.compareUnsigned(hlc, o.hlc);
        return c != 0 ? c : site.compareTo(o.site);
    }

    public boolean after(OpId o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return this.equals(ROOT) ? "root" : site + "@" + Long.toHexString(hlc);
    }
}
