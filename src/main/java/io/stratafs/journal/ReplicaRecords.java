package io.stratafs.journal;

import io.stratafs.meta.BlockRef;
import io.stratafs.sync.EdgeRecord;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.MoveRecord;
import io.stratafs.sync.NodeRecord;
import io.stratafs.sync.OpId;
import io.stratafs.sync.Placement;
import io.stratafs.sync.Register;
import io.stratafs.sync.VersionVector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The binary form of a replica's records in LMDB (docs/FORMAT.md, "Replica state"), and the keys
 * that index them. Ids in keys are the stamp (8 bytes, big-endian) then the site name and a 0 byte,
 * so keys sort in {@link OpId} order and a key can hold an id followed by more.
 */
final class ReplicaRecords {
    private static final int VERSION = 1;

    private ReplicaRecords() {
    }

    // ---- keys -------------------------------------------------------------------------------

    static byte[] idKey(OpId id) {
        byte[] site = id.site().getBytes(StandardCharsets.UTF_8);
        byte[] k = new byte[8 + site.length + 1];
        for (int i = 0; i < 8; i++) {
            k[i] = (byte) (id.hlc() >>> (56 - 8 * i));
        }
        System.arraycopy(site, 0, k, 8, site.length);
        return k;
    }

    /** Reads an id written by {@link #idKey} at {@code off}. */
    static OpId idAt(byte[] k, int off) {
        long hlc = 0;
        for (int i = 0; i < 8; i++) {
            hlc = (hlc << 8) | (k[off + i] & 0xff);
        }
        int end = off + 8;
        while (k[end] != 0) {
            end++;
        }
        return new OpId(hlc, new String(k, off + 8, end - off - 8, StandardCharsets.UTF_8));
    }

    static byte[] childKey(OpId parent, String name, OpId edge) {
        return concat(idKey(parent), name.getBytes(StandardCharsets.UTF_8), new byte[] {0}, idKey(edge));
    }

    static byte[] concat(byte[]... parts) {
        int len = 0;
        for (byte[] p : parts) {
            len += p.length;
        }
        byte[] out = new byte[len];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    // ---- records ----------------------------------------------------------------------------

    static byte[] encode(NodeRecord n) {
        Out out = new Out(160);
        id(out, n.id());
        out.i32(n.type());
        out.i64(n.rdev());
        optionalBytes(out, n.symlinkTarget());
        intRegister(out, n.perm());
        intRegister(out, n.uid());
        intRegister(out, n.gid());
        longRegister(out, n.atimeNs());
        longRegister(out, n.mtimeNs());
        out.i32(n.xattrs().size());
        for (Map.Entry<String, Register<byte[]>> x : n.xattrs().entrySet()) {
            out.utf(x.getKey());
            optionalBytes(out, x.getValue().value());
            id(out, x.getValue().stamp());
        }
        out.i32(n.versions().size());
        for (NodeRecord.Version v : n.versions()) {
            id(out, v.id());
            vv(out, v.vv());
            manifest(out, v.content());
            out.i64(v.mtimeNs());
        }
        id(out, n.touched());
        return out.bytes();
    }

    static NodeRecord node(byte[] b) {
        In in = new In(b, "node");
        OpId id = id(in);
        int type = in.i32();
        long rdev = in.i64();
        byte[] target = optionalBytes(in);
        Register<Integer> perm = intRegister(in);
        Register<Integer> uid = intRegister(in);
        Register<Integer> gid = intRegister(in);
        Register<Long> atime = longRegister(in);
        Register<Long> mtime = longRegister(in);
        SortedMap<String, Register<byte[]>> xattrs = new TreeMap<>();
        for (int i = in.i32(); i > 0; i--) {
            String name = in.utf();
            byte[] value = optionalBytes(in);
            xattrs.put(name, new Register<>(value, id(in)));
        }
        List<NodeRecord.Version> versions = new ArrayList<>();
        for (int i = in.i32(); i > 0; i--) {
            versions.add(new NodeRecord.Version(id(in), vv(in), manifest(in), in.i64()));
        }
        OpId touched = id(in);
        in.end();
        return new NodeRecord(id, type, rdev, target, perm, uid, gid, atime, mtime, xattrs, versions, touched);
    }

    static byte[] encode(EdgeRecord e) {
        Out out = new Out(96);
        id(out, e.id());
        id(out, e.node());
        placement(out, e.placement());
        out.flag(e.removal() != null);
        if (e.removal() != null) {
            id(out, e.removal().placement());
            optionalVv(out, e.removal().content());
        }
        return out.bytes();
    }

    static EdgeRecord edge(byte[] b) {
        In in = new In(b, "edge");
        OpId id = id(in);
        OpId node = id(in);
        Placement p = placement(in);
        EdgeRecord.Removal removal = in.flag() ? new EdgeRecord.Removal(id(in), optionalVv(in)) : null;
        in.end();
        return new EdgeRecord(id, node, p, removal);
    }

    static byte[] encode(MoveRecord m) {
        Out out = new Out(128);
        id(out, m.id());
        id(out, m.edge());
        placement(out, m.to());
        out.flag(m.before() != null);
        if (m.before() != null) {
            placement(out, m.before());
        }
        out.flag(m.applied());
        return out.bytes();
    }

    static MoveRecord move(byte[] b) {
        In in = new In(b, "move");
        MoveRecord m = new MoveRecord(id(in), id(in), placement(in), in.flag() ? placement(in) : null, in.flag());
        in.end();
        return m;
    }

    // ---- fields -----------------------------------------------------------------------------

    private static void id(Out out, OpId id) {
        out.i64(id.hlc());
        out.utf(id.site());
    }

    private static OpId id(In in) {
        return new OpId(in.i64(), in.utf());
    }

    private static void placement(Out out, Placement p) {
        id(out, p.parent());
        out.utf(p.name());
        id(out, p.stamp());
    }

    private static Placement placement(In in) {
        return new Placement(id(in), in.utf(), id(in));
    }

    private static void intRegister(Out out, Register<Integer> r) {
        out.i32(r.value());
        id(out, r.stamp());
    }

    private static Register<Integer> intRegister(In in) {
        return new Register<>(in.i32(), id(in));
    }

    private static void longRegister(Out out, Register<Long> r) {
        out.i64(r.value());
        id(out, r.stamp());
    }

    private static Register<Long> longRegister(In in) {
        return new Register<>(in.i64(), id(in));
    }

    private static void vv(Out out, VersionVector vv) {
        out.i32(vv.counts().size());
        for (Map.Entry<String, Long> e : vv.counts().entrySet()) {
            out.utf(e.getKey());
            out.i64(e.getValue());
        }
    }

    private static VersionVector vv(In in) {
        Map<String, Long> counts = new TreeMap<>();
        for (int i = in.i32(); i > 0; i--) {
            counts.put(in.utf(), in.i64());
        }
        return new VersionVector(counts);
    }

    private static void optionalVv(Out out, VersionVector vv) {
        out.flag(vv != null);
        if (vv != null) {
            vv(out, vv);
        }
    }

    private static VersionVector optionalVv(In in) {
        return in.flag() ? vv(in) : null;
    }

    private static void manifest(Out out, Manifest m) {
        out.i64(m.size());
        out.i32(m.blocks().size());
        for (Manifest.Block b : m.blocks()) {
            out.i64(b.index());
            out.raw(b.ref().hash());
            out.i32(b.ref().length());
        }
    }

    private static Manifest manifest(In in) {
        long size = in.i64();
        int n = in.i32();
        List<Manifest.Block> blocks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long index = in.i64();
            byte[] hash = in.raw(32);
            blocks.add(new Manifest.Block(index, new BlockRef(hash, in.i32())));
        }
        return new Manifest(size, blocks);
    }

    private static void optionalBytes(Out out, byte[] b) {
        out.flag(b != null);
        if (b != null) {
            out.i32(b.length);
            out.raw(b);
        }
    }

    private static byte[] optionalBytes(In in) {
        if (!in.flag()) {
            return null;
        }
        return in.raw(in.i32());
    }

    // ---- framing ----------------------------------------------------------------------------

    /**
     * Writes what java.io.DataOutputStream wrote for these records (big-endian; strings as modified
     * UTF-8 with a 2-byte length), straight into one growing array: a local change encodes two or
     * three records, and the stream, its buffer and a lambda per record showed in profiles.
     */
    private static final class Out {
        private byte[] buf;
        private int n;

        Out(int capacity) {
            buf = new byte[capacity];
            buf[n++] = VERSION;
        }

        private void room(int more) {
            if (n + more > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, n + more));
            }
        }

        void flag(boolean b) {
            room(1);
            buf[n++] = (byte) (b ? 1 : 0);
        }

        void i32(int v) {
            room(4);
            for (int s = 24; s >= 0; s -= 8) {
                buf[n++] = (byte) (v >>> s);
            }
        }

        void i64(long v) {
            room(8);
            for (int s = 56; s >= 0; s -= 8) {
                buf[n++] = (byte) (v >>> s);
            }
        }

        void raw(byte[] b) {
            room(b.length);
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }

        /** Modified UTF-8 as DataOutputStream.writeUTF: U+0000 and surrogates as themselves, in two and three bytes. */
        void utf(String s) {
            int len = s.length();
            int bytes = 0;
            for (int i = 0; i < len; i++) {
                char c = s.charAt(i);
                bytes += c >= 0x0001 && c <= 0x007F ? 1 : c <= 0x07FF ? 2 : 3;
            }
            if (bytes > 65535) {
                throw new IllegalArgumentException("a replica record string of " + bytes + " bytes is longer than 65535");
            }
            room(2 + bytes);
            buf[n++] = (byte) (bytes >>> 8);
            buf[n++] = (byte) bytes;
            for (int i = 0; i < len; i++) {
                char c = s.charAt(i);
                if (c >= 0x0001 && c <= 0x007F) {
                    buf[n++] = (byte) c;
                } else if (c <= 0x07FF) {
                    buf[n++] = (byte) (0xC0 | (c >> 6));
                    buf[n++] = (byte) (0x80 | (c & 0x3F));
                } else {
                    buf[n++] = (byte) (0xE0 | (c >> 12));
                    buf[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                    buf[n++] = (byte) (0x80 | (c & 0x3F));
                }
            }
        }

        byte[] bytes() {
            return java.util.Arrays.copyOf(buf, n);
        }
    }

    /** Reads what {@link Out} (or DataOutputStream before it) wrote; every read checks the record is long enough. */
    private static final class In {
        private final byte[] b;
        private final String what;
        private int p;

        In(byte[] b, String what) {
            this.b = b;
            this.what = what;
            int version = u8();
            if (version != VERSION) {
                throw new IllegalStateException("a replica " + what + " record has version " + version
                        + "; this StrataFS reads version " + VERSION);
            }
        }

        private void need(int more) {
            if (p + more > b.length) {
                throw new IllegalStateException("a replica " + what + " record is unreadable: it ends after "
                        + b.length + " bytes, in the middle of a field");
            }
        }

        private int u8() {
            need(1);
            return b[p++] & 0xff;
        }

        boolean flag() {
            return u8() != 0;
        }

        int i32() {
            need(4);
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | (b[p++] & 0xff);
            }
            return v;
        }

        long i64() {
            need(8);
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (b[p++] & 0xff);
            }
            return v;
        }

        byte[] raw(int len) {
            if (len < 0) {
                throw new IllegalStateException("a replica " + what + " record is unreadable: a length of " + len);
            }
            need(len);
            byte[] out = java.util.Arrays.copyOfRange(b, p, p + len);
            p += len;
            return out;
        }

        /** ASCII (every byte 1..127), the usual case, is copied as Latin-1; anything else goes through DataInputStream.readUTF. */
        String utf() {
            need(2);
            int len = ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
            need(2 + len);
            int start = p + 2;
            boolean ascii = true;
            for (int i = start; i < start + len; i++) {
                if (b[i] <= 0) {
                    ascii = false;
                    break;
                }
            }
            if (ascii) {
                p = start + len;
                return new String(b, start, len, StandardCharsets.ISO_8859_1);
            }
            try {
                String s = new java.io.DataInputStream(new java.io.ByteArrayInputStream(b, p, 2 + len)).readUTF();
                p = start + len;
                return s;
            } catch (java.io.IOException e) {
                throw new IllegalStateException("a replica " + what + " record is unreadable: " + e.getMessage(), e);
            }
        }

        void end() {
            if (p != b.length) {
                throw new IllegalStateException("a replica " + what + " record has " + (b.length - p) + " bytes too many");
            }
        }
    }
}
