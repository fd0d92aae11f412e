package io.stratafs.sync.sim;

import io.stratafs.meta.BlockRef;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.Tree;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * What users do, as random choices over the tree a site presents: names from a small alphabet (so
 * sites collide on names often), contents from a four-block alphabet with holes, and the paths of a
 * tree sorted into directories, files, other entries and conflict copies.
 */
final class Workload {
    static final int BLOCK = 4096;
    static final String[] NAMES = {"a", "b", "c", "a.txt", "b.txt", "r.md"};
    static final String[] XATTRS = {"user.a", "user.b"};
    private static final List<BlockRef> ALPHABET = alphabet();

    private Workload() {
    }

    private static List<BlockRef> alphabet() {
        try {
            List<BlockRef> out = new ArrayList<>();
            for (String s : new String[] {"w", "x", "y", "z"}) {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
                out.add(new BlockRef(h, BLOCK));
            }
            return out;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java runtime has no SHA-256", e);
        }
    }

    /** A random whole content: up to four blocks with holes between them, or only a hole. */
    static Manifest content(Random r) {
        int n = r.nextInt(4);
        if (n == 0) {
            return new Manifest(r.nextInt(3 * BLOCK), List.of());
        }
        List<Manifest.Block> blocks = new ArrayList<>();
        long index = 0;
        for (int i = 0; i < n; i++) {
            index += r.nextInt(3);
            blocks.add(new Manifest.Block(index, ALPHABET.get(r.nextInt(ALPHABET.size()))));
            index++;
        }
        return new Manifest(index * BLOCK, blocks);
    }

    /** {@code m} cut (or extended with a hole) to a random size, as truncate(2) would. */
    static Manifest truncated(Manifest m, Random r) {
        long size = r.nextInt(4) == 0 ? m.size() + r.nextInt(2 * BLOCK) : (long) (r.nextDouble() * m.size());
        List<Manifest.Block> kept = new ArrayList<>();
        for (Manifest.Block b : m.blocks()) {
            if (b.index() * BLOCK < size) {
                kept.add(b);
            }
        }
        return new Manifest(size, kept);
    }

    static String name(Random r) {
        return NAMES[r.nextInt(NAMES.length)];
    }

    static String child(String dir, String name) {
        return ("/".equals(dir) ? "" : dir) + "/" + name;
    }

    static String base(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    static boolean within(String path, String dir) {
        return path.equals(dir) || path.startsWith(dir.equals("/") ? "/" : dir + "/");
    }

    static int type(Tree.Entry e) {
        return e.mode() & Oracle.S_IFMT;
    }

    static int randomMask(Random r) {
        return 1 + r.nextInt(Op.SetAttr.MODE | Op.SetAttr.UID | Op.SetAttr.GID | Op.SetAttr.ATIME | Op.SetAttr.MTIME);
    }

    static int randomPerm(Random r) {
        int[] perms = {0644, 0600, 0755, 0444, 01777};
        return perms[r.nextInt(perms.length)];
    }

    static int randomOwner(Random r) {
        int[] ids = {0, 1000, 1001};
        return ids[r.nextInt(ids.length)];
    }

    static <T> T pick(List<T> l, Random r) {
        return l.isEmpty() ? null : l.get(r.nextInt(l.size()));
    }

    /** A tree's paths by what can be done to them. */
    static final class View {
        final Tree tree;
        final List<String> dirs = new ArrayList<>();
        final List<String> files = new ArrayList<>();
        final List<String> nonDirs = new ArrayList<>();
        final List<String> entries = new ArrayList<>();
        final List<String> copies = new ArrayList<>();

        View(Tree tree) {
            this.tree = tree;
            for (Map.Entry<String, Tree.Entry> pe : tree.entries().entrySet()) {
                String p = pe.getKey();
                Tree.Entry e = pe.getValue();
                if (e.conflictCopy()) {
                    copies.add(p);
                    continue;
                }
                if (type(e) == Oracle.S_IFDIR) {
                    dirs.add(p);
                } else {
                    nonDirs.add(p);
                    if (type(e) == Oracle.S_IFREG) {
                        files.add(p);
                    }
                }
                if (!"/".equals(p)) {
                    entries.add(p);
                }
            }
        }

        Tree.Entry get(String path) {
            return tree.entries().get(path);
        }

        /** Paths of {@code mine} present in both views as the same node (conflict copies: of the same version), not the root. */
        List<String> common(View o, List<String> mine) {
            List<String> out = new ArrayList<>();
            for (String p : mine) {
                Tree.Entry theirs = o.get(p);
                Tree.Entry here = get(p);
                if (!"/".equals(p) && theirs != null && theirs.conflictCopy() == here.conflictCopy()
                        && theirs.node().equals(here.node())
                        && (!here.conflictCopy() || Objects.equals(theirs.version(), here.version()))) {
                    out.add(p);
                }
            }
            return out;
        }
    }
}
