package io.stratafs.sync;

/**
 * The stored state of one name (edge): the node it names, where it is, and the latest removal of
 * it ({@code removal} null if it was never removed). Whether the name is live follows from these
 * and the node's state (see {@link Replica}).
 */
public record EdgeRecord(OpId id, OpId node, Placement placement, Removal removal) {

    /**
     * What the removers of this name had seen: the placement stamp and, for files, the join of the
     * content vectors. Removals that saw the same placement join their vectors; a removal that saw a
     * later placement supersedes the others, so the result does not depend on arrival order.
     */
    public record Removal(OpId placement, VersionVector content) {
        public Removal merge(Removal o) {
            if (o == null) {
                return this;
            }
            int c = placement.compareTo(o.placement);
            if (c != 0) {
                return c > 0 ? this : o;
            }
            return new Removal(placement, content.join(o.content));
        }
    }

    public EdgeRecord withPlacement(Placement p) {
        return new EdgeRecord(id, node, p, removal);
    }

    public EdgeRecord withRemoval(Removal r) {
        return new EdgeRecord(id, node, placement, r.merge(removal));
    }
}
