package io.stratafs.sync.sim;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.stratafs.sync.Manifest;
import io.stratafs.sync.OpId;
import io.stratafs.sync.Tree;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules a settled simulation must satisfy (sites-design, "What converged means"): every site
 * and an observer that applied the same envelopes in another order present one tree; the tree is a
 * tree (every entry under a directory that is there, no directory at two places, link counts
 * right); and the file versions the {@link Oracle} says survive are exactly the ones shown.
 */
final class Checks {
    private Checks() {
    }

    /** The digests of all trees, after checking that they and the observer's are equal. */
    static List<String> converged(List<Tree> trees, Tree observed) {
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < trees.size(); i++) {
            if (!trees.get(i).equals(trees.get(0))) {
                throw new SimFailure("diverged", Schedule.siteName(i) + " and " + Schedule.siteName(0)
                        + " applied the same envelopes but differ: " + difference(trees.get(i), trees.get(0)));
            }
            digests.add(trees.get(i).digest());
        }
        if (!observed.equals(trees.get(0))) {
            throw new SimFailure("order", "a replica that applied the same envelopes in another causal order differs"
                    + " from " + Schedule.siteName(0) + ": " + difference(observed, trees.get(0)));
        }
        for (int i = 1; i < digests.size(); i++) {
            if (!digests.get(i).equals(digests.get(0))) {
                throw new SimFailure("digest", "equal trees with different digests at " + Schedule.siteName(i));
            }
        }
        return digests;
    }

    static String difference(Tree a, Tree b) {
        Set<String> paths = new TreeSet<>(a.entries().keySet());
        paths.addAll(b.entries().keySet());
        for (String p : paths) {
            Tree.Entry x = a.entries().get(p);
            Tree.Entry y = b.entries().get(p);
            if (x == null || !x.equals(y)) {
                return p + ": " + x + " versus " + y;
            }
        }
        return "no path differs";
    }

    /** The presented tree is a tree, and its link counts and sizes agree with it. */
    static void wellFormed(Tree t) {
        Tree.Entry root = t.entries().get("/");
        if (root == null || Workload.type(root) != Oracle.S_IFDIR) {
            throw new SimFailure("root", "the tree has no root directory: " + root);
        }
        Map<OpId, String> dirAt = new HashMap<>();
        Map<String, Integer> subdirs = new HashMap<>();
        Map<OpId, Integer> names = new HashMap<>();
        for (Map.Entry<String, Tree.Entry> pe : t.entries().entrySet()) {
            String p = pe.getKey();
            Tree.Entry e = pe.getValue();
            boolean dir = Workload.type(e) == Oracle.S_IFDIR;
            if (!"/".equals(p)) {
                Tree.Entry parent = t.entries().get(Workload.parent(p));
                if (parent == null || Workload.type(parent) != Oracle.S_IFDIR || Workload.base(p).isEmpty()) {
                    throw new SimFailure("orphan", p + " is not in a directory of the tree");
                }
                if (dir) {
                    subdirs.merge(Workload.parent(p), 1, Integer::sum);
                }
            }
            if (dir) {
                String other = dirAt.put(e.node(), p);
                if (other != null) {
                    throw new SimFailure("duplicate-dir", "directory " + e.node() + " is at " + other + " and at " + p);
                }
            } else if (!e.conflictCopy()) {
                names.merge(e.node(), 1, Integer::sum);
            }
            if (Workload.type(e) == Oracle.S_IFREG
                    && (e.content() == null || e.version() == null || e.size() != e.content().size())) {
                throw new SimFailure("content", p + " is a file without a consistent version: " + e);
            }
            if (e.conflictCopy() && Workload.type(e) != Oracle.S_IFREG) {
                throw new SimFailure("content", p + " is a conflict copy but not a file: " + e);
            }
        }
        for (Map.Entry<String, Tree.Entry> pe : t.entries().entrySet()) {
            Tree.Entry e = pe.getValue();
            boolean dir = Workload.type(e) == Oracle.S_IFDIR;
            // a conflict copy is a read-only view of one version, not a name of the file: one link
            int want = dir ? 2 + subdirs.getOrDefault(pe.getKey(), 0)
                    : e.conflictCopy() ? 1 : names.getOrDefault(e.node(), 1);
            if (e.nlink() != want) {
                throw new SimFailure("nlink", pe.getKey() + " has nlink " + e.nlink() + " where the tree shows " + want);
            }
        }
    }

    /**
     * Each file node shown, and each the oracle says is certainly live, shows exactly its versions
     * that no other version dominates, each with its own content; other certainly live nodes are shown.
     */
    static void versions(Tree t, Oracle oracle) {
        Map<OpId, Map<OpId, Manifest>> shown = new TreeMap<>();
        Set<OpId> nodes = new TreeSet<>();
        Map<OpId, String> where = new HashMap<>();
        t.entries().forEach((p, e) -> {
            nodes.add(e.node());
            where.putIfAbsent(e.node(), p);
            if (Workload.type(e) == Oracle.S_IFREG) {
                shown.computeIfAbsent(e.node(), k -> new TreeMap<>()).put(e.version(), e.content());
            }
        });
        Set<OpId> check = new TreeSet<>(shown.keySet());
        check.addAll(oracle.certainlyLive());
        for (OpId node : check) {
            if (!oracle.files().contains(node)) {
                if (!nodes.contains(node)) {
                    throw new SimFailure("lost", "node " + node + " is certainly live but not in the tree");
                }
                continue;
            }
            Map<OpId, Manifest> have = shown.getOrDefault(node, Map.of());
            Map<OpId, Manifest> want = new TreeMap<>();
            oracle.undominated(node).forEach(v -> want.put(v.id(), v.content()));
            if (!have.keySet().equals(want.keySet())) {
                throw new SimFailure("versions", "file " + node + (where.containsKey(node) ? " (at " + where.get(node) + ")" : "")
                        + " shows versions " + have.keySet() + " but the versions no other dominates are " + want.keySet()
                        + (oracle.certainlyLive().contains(node) ? "; it is certainly live" : ""));
            }
            for (Map.Entry<OpId, Manifest> v : want.entrySet()) {
                if (!java.util.Objects.equals(v.getValue(), have.get(v.getKey()))) {
                    throw new SimFailure("versions", "file " + node + " shows version " + v.getKey() + " with other content");
                }
            }
        }
    }

    /** Every attribute and xattr shown is its last writer's (by operation id), per attribute. */
    static void attributes(Tree t, Oracle oracle) {
        t.entries().forEach((p, e) -> {
            if (e.conflictCopy() || e.node().equals(OpId.ROOT)) {
                return;
            }
            Map<String, Object> shown = new TreeMap<>();
            shown.put("mode", e.mode() & 07777);
            shown.put("uid", e.uid());
            shown.put("gid", e.gid());
            shown.put("atime", e.atimeNs());
            shown.put("mtime", e.mtimeNs());
            e.xattrs().forEach((k, v) -> shown.put("xattr " + k, new String(v, ISO_8859_1)));
            Map<String, Oracle.Stamped> want = oracle.attributes(e.node());
            for (Map.Entry<String, Oracle.Stamped> w : want.entrySet()) {
                Object value = w.getValue().value();
                boolean unknownTime = value == null && !w.getKey().startsWith("xattr ");
                if (!unknownTime && !java.util.Objects.equals(value, shown.get(w.getKey()))) {
                    throw new SimFailure("attributes", p + " shows " + w.getKey() + " " + shown.get(w.getKey())
                            + " but its last writer " + w.getValue().stamp() + " set " + value);
                }
            }
            for (String k : shown.keySet()) {
                if (k.startsWith("xattr ") && !want.containsKey(k)) {
                    throw new SimFailure("attributes", p + " shows " + k + " that no operation set");
                }
            }
        });
    }

    private static final Pattern CONFLICT_NAME =
            Pattern.compile("(.+)\\.conflict-([^-]+)-(\\d{8}T\\d{6}Z)(-[2-9]|-[1-9]\\d+)?(\\.[^.]+)?");
    private static final DateTimeFormatter UTC_SECOND =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** A conflict copy's name says the site and the UTC second of the version it shows, as every site computes it. */
    static void conflictNames(Tree t) {
        t.entries().forEach((p, e) -> {
            if (!e.conflictCopy()) {
                return;
            }
            Matcher m = CONFLICT_NAME.matcher(Workload.base(p));
            String time = UTC_SECOND.format(Instant.ofEpochMilli(e.version().hlc() >>> 16));
            if (!m.matches() || !m.group(2).equals(e.version().site()) || !m.group(3).equals(time)) {
                throw new SimFailure("conflict-name", p + " shows version " + e.version() + " but is not named"
                        + " NAME.conflict-" + e.version().site() + "-" + time + "[-N][.EXT]");
            }
        });
    }
}
