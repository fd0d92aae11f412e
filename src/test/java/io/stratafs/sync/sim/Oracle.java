package io.stratafs.sync.sim;

import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import io.stratafs.sync.VersionVector;
import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the converged tree must show, worked out from the published operations alone (never from the
 * engine's state): for each regular file, the content versions no other version dominates; which
 * non-directory nodes are certainly still live; and each attribute's and xattr's last writer. A
 * name is certainly live when nothing removed it, or every removal of it missed something: a later
 * placement (a move it had not seen) or one of the surviving versions (a write it had not seen).
 * The engine may keep more alive (through rules this oracle does not model), never less.
 */
final class Oracle {
    static final int S_IFMT = 0170000;
    static final int S_IFREG = 0100000;
    static final int S_IFDIR = 0040000;

    /** One content version of a file. */
    record Version(OpId id, VersionVector vv, Manifest content) {
    }

    private final Map<OpId, List<Version>> versions = new TreeMap<>();
    private final Map<OpId, Integer> types = new HashMap<>();
    private final Map<OpId, OpId> edgeNode = new TreeMap<>();
    private final Map<OpId, OpId> lastPlacement = new HashMap<>();
    private final Map<OpId, List<Op.Seen>> removals = new HashMap<>();
    private final Map<OpId, Map<String, Stamped>> attributes = new HashMap<>();

    /** A last-writer-wins register's value and the operation that set it; value null for "unknown" or "removed". */
    record Stamped(OpId stamp, Object value) {
    }

    Oracle(List<Envelope> published) {
        for (Envelope e : published) {
            take(e.op());
        }
    }

    private void take(Op op) {
        if (op instanceof Op.Create c) {
            set(c.id(), "mode", c.id(), c.mode() & 07777);
            set(c.id(), "uid", c.id(), c.uid());
            set(c.id(), "gid", c.id(), c.gid());
            // the times a create sets come from the engine's clock, not from the operation
            set(c.id(), "atime", c.id(), null);
            set(c.id(), "mtime", c.id(), null);
            types.put(c.id(), c.mode() & S_IFMT);
            edgeNode.put(c.id(), c.id());
            place(c.id(), c.id());
            if ((c.mode() & S_IFMT) == S_IFREG) {
                versions.computeIfAbsent(c.id(), k -> new ArrayList<>())
                        .add(new Version(c.id(), VersionVector.EMPTY.increment(c.id().site()), Manifest.EMPTY));
            }
        } else if (op instanceof Op.Link l) {
            edgeNode.put(l.id(), l.node());
            place(l.id(), l.id());
        } else if (op instanceof Op.Move m) {
            place(m.edge(), m.id());
            if (m.replaced() != null) {
                removals.computeIfAbsent(m.replaced(), k -> new ArrayList<>()).add(m.replacedSeen());
            }
        } else if (op instanceof Op.Remove r) {
            removals.computeIfAbsent(r.edge(), k -> new ArrayList<>()).add(r.seen());
        } else if (op instanceof Op.Write w) {
            versions.computeIfAbsent(w.node(), k -> new ArrayList<>()).add(new Version(w.id(), w.vv(), w.content()));
            set(w.node(), "mtime", w.id(), w.mtimeNs());
        } else if (op instanceof Op.SetAttr a) {
            if ((a.mask() & Op.SetAttr.MODE) != 0) {
                set(a.node(), "mode", a.id(), a.mode() & 07777);
            }
            if ((a.mask() & Op.SetAttr.UID) != 0) {
                set(a.node(), "uid", a.id(), a.uid());
            }
            if ((a.mask() & Op.SetAttr.GID) != 0) {
                set(a.node(), "gid", a.id(), a.gid());
            }
            if ((a.mask() & Op.SetAttr.ATIME) != 0) {
                set(a.node(), "atime", a.id(), a.atimeNs());
            }
            if ((a.mask() & Op.SetAttr.MTIME) != 0) {
                set(a.node(), "mtime", a.id(), a.mtimeNs());
            }
        } else if (op instanceof Op.SetXattr x) {
            set(x.node(), "xattr " + x.name(), x.id(), x.value() == null ? null : new String(x.value(), ISO_8859_1));
        }
    }

    private void set(OpId node, String attribute, OpId stamp, Object value) {
        attributes.computeIfAbsent(node, k -> new TreeMap<>()).merge(attribute, new Stamped(stamp, value),
                (old, now) -> now.stamp.after(old.stamp) ? now : old);
    }

    /**
     * The last writer's value of each attribute of {@code node} ("mode", "uid", "gid", "atime",
     * "mtime", "xattr NAME"); a null value is unknown (a time set at create) or a removed xattr.
     */
    Map<String, Stamped> attributes(OpId node) {
        return attributes.getOrDefault(node, Map.of());
    }

    private void place(OpId edge, OpId stamp) {
        lastPlacement.merge(edge, stamp, (a, b) -> a.compareTo(b) >= 0 ? a : b);
    }

    /** The versions of {@code node} that no other version dominates. */
    List<Version> undominated(OpId node) {
        List<Version> all = versions.getOrDefault(node, List.of());
        List<Version> out = new ArrayList<>();
        for (Version v : all) {
            boolean dominated = false;
            for (Version w : all) {
                if (w != v && w.vv.dominates(v.vv) && !v.vv.dominates(w.vv)) {
                    dominated = true;
                    break;
                }
            }
            if (!dominated) {
                out.add(v);
            }
        }
        return out;
    }

    /** Regular files, by node id. */
    Set<OpId> files() {
        return versions.keySet();
    }

    boolean isDirectory(OpId node) {
        return types.getOrDefault(node, 0) == S_IFDIR;
    }

    /** Non-directory nodes that must be in every converged tree. */
    Set<OpId> certainlyLive() {
        Set<OpId> out = new TreeSet<>();
        edgeNode.forEach((edge, node) -> {
            if (!isDirectory(node) && edgeCertainlyLive(edge, node)) {
                out.add(node);
            }
        });
        return out;
    }

    private boolean edgeCertainlyLive(OpId edge, OpId node) {
        List<Op.Seen> rs = removals.getOrDefault(edge, List.of());
        if (rs.isEmpty()) {
            return true;
        }
        OpId placed = lastPlacement.get(edge);
        boolean everyMissedAMove = rs.stream().allMatch(s -> !placed.equals(s.placement()));
        if (everyMissedAMove) {
            return true;
        }
        for (Version v : undominated(node)) {
            if (rs.stream().allMatch(s -> s.content() == null || !s.content().dominates(v.vv))) {
                return true;
            }
        }
        return false;
    }
}
