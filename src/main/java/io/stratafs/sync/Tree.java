package io.stratafs.sync;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The tree a replica presents: path to entry, in path order, root "/" included. {@code equals}
 * compares everything a user can see (and the node identities, so hard links are compared too);
 * {@link #digest} condenses the same into one hash for status and convergence checks.
 */
public record Tree(SortedMap<String, Entry> entries) {
    public Tree {
        entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
    }

    /**
     * One presented path. {@code content} is null unless a regular file; {@code symlinkTarget} null
     * unless a symlink; {@code node} is the identity (hard links share it, a merged directory shows
     * its winner's); {@code version} the content version shown (regular files only).
     */
    public record Entry(int mode, int uid, int gid, long atimeNs, long mtimeNs, long ctimeNs, int nlink,
                        long size, Manifest content, byte[] symlinkTarget, SortedMap<String, byte[]> xattrs,
                        OpId node, OpId version, boolean conflictCopy) {
        public Entry {
            xattrs = Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && mode == e.mode && uid == e.uid && gid == e.gid && atimeNs == e.atimeNs
                    && mtimeNs == e.mtimeNs && ctimeNs == e.ctimeNs && nlink == e.nlink && size == e.size
                    && java.util.Objects.equals(content, e.content) && Arrays.equals(symlinkTarget, e.symlinkTarget)
                    && sameXattrs(xattrs, e.xattrs) && node.equals(e.node) && Objects.equals(version, e.version)
                    && conflictCopy == e.conflictCopy;
        }

        @Override
        public int hashCode() {
            return Objects.hash(mode, uid, gid, mtimeNs, nlink, size, node, version, conflictCopy);
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder();
            s.append(String.format("mode=%o uid=%d gid=%d atime=%d mtime=%d ctime=%d nlink=%d size=%d node=%s",
                    mode, uid, gid, atimeNs, mtimeNs, ctimeNs, nlink, size, node));
            if (version != null) {
                s.append(" version=").append(version);
            }
            if (conflictCopy) {
                s.append(" conflict-copy");
            }
            if (symlinkTarget != null) {
                s.append(" -> ").append(new String(symlinkTarget, StandardCharsets.UTF_8));
            }
            if (content != null) {
                s.append(" blocks=").append(content.blocks().size());
            }
            xattrs.forEach((k, v) -> s.append(' ').append(k).append('=').append(HexFormat.of().formatHex(v)));
            return s.toString();
        }
    }

    /** A SHA-256 (hex) of every path and everything a user sees of it. */
    public String digest() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            for (Map.Entry<String, Entry> pe : entries.entrySet()) {
                Entry e = pe.getValue();
                out.writeUTF(pe.getKey());
                out.writeInt(e.mode);
                out.writeInt(e.uid);
                out.writeInt(e.gid);
                out.writeLong(e.atimeNs);
                out.writeLong(e.mtimeNs);
                out.writeLong(e.ctimeNs);
                out.writeInt(e.nlink);
                out.writeLong(e.size);
                writeManifest(out, e.content);
                writeBytes(out, e.symlinkTarget);
                out.writeInt(e.xattrs.size());
                for (Map.Entry<String, byte[]> x : e.xattrs.entrySet()) {
                    out.writeUTF(x.getKey());
                    writeBytes(out, x.getValue());
                }
                writeId(out, e.node);
                writeId(out, e.version);
                out.writeBoolean(e.conflictCopy);
            }
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java runtime has no SHA-256", e);
        }
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        entries.forEach((p, e) -> s.append(p).append("  ").append(e).append('\n'));
        return s.toString();
    }

    private static void writeManifest(DataOutputStream out, Manifest m) throws IOException {
        if (m == null) {
            out.writeLong(-1);
            return;
        }
        out.writeLong(m.size());
        out.writeInt(m.blocks().size());
        for (Manifest.Block b : m.blocks()) {
            out.writeLong(b.index());
            out.write(b.ref().hash());
            out.writeInt(b.ref().length());
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b == null ? -1 : b.length);
        if (b != null) {
            out.write(b);
        }
    }

    private static void writeId(DataOutputStream out, OpId id) throws IOException {
        out.writeBoolean(id != null);
        if (id != null) {
            out.writeLong(id.hlc());
            out.writeUTF(id.site());
        }
    }

    private static boolean sameXattrs(SortedMap<String, byte[]> a, SortedMap<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : a.entrySet()) {
            if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
