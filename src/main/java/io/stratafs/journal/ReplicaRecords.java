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
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    // ---- records ----------------------------------------------------------------------------

    static byte[] encode(NodeRecord n) {
        return write(out -> {
            id(out, n.id());
            out.writeInt(n.type());
            out.writeLong(n.rdev());
            optionalBytes(out, n.symlinkTarget());
            intRegister(out, n.perm());
            intRegister(out, n.uid());
            intRegister(out, n.gid());
            longRegister(out, n.atimeNs());
            longRegister(out, n.mtimeNs());
            out.writeInt(n.xattrs().size());
            for (Map.Entry<String, Register<byte[]>> x : n.xattrs().entrySet()) {
                out.writeUTF(x.getKey());
                optionalBytes(out, x.getValue().value());
                id(out, x.getValue().stamp());
            }
            out.writeInt(n.versions().size());
            for (NodeRecord.Version v : n.versions()) {
                id(out, v.id());
                vv(out, v.vv());
                manifest(out, v.content());
                out.writeLong(v.mtimeNs());
            }
            id(out, n.touched());
        });
    }

    static NodeRecord node(byte[] b) {
        return read(b, "node", in -> {
            OpId id = id(in);
            int type = in.readInt();
            long rdev = in.readLong();
            byte[] target = optionalBytes(in);
            Register<Integer> perm = intRegister(in);
            Register<Integer> uid = intRegister(in);
            Register<Integer> gid = intRegister(in);
            Register<Long> atime = longRegister(in);
            Register<Long> mtime = longRegister(in);
            SortedMap<String, Register<byte[]>> xattrs = new TreeMap<>();
            for (int i = in.readInt(); i > 0; i--) {
                String name = in.readUTF();
                byte[] value = optionalBytes(in);
                xattrs.put(name, new Register<>(value, id(in)));
            }
            List<NodeRecord.Version> versions = new ArrayList<>();
            for (int i = in.readInt(); i > 0; i--) {
                versions.add(new NodeRecord.Version(id(in), vv(in), manifest(in), in.readLong()));
            }
            return new NodeRecord(id, type, rdev, target, perm, uid, gid, atime, mtime, xattrs, versions, id(in));
        });
    }

    static byte[] encode(EdgeRecord e) {
        return write(out -> {
            id(out, e.id());
            id(out, e.node());
            placement(out, e.placement());
            out.writeBoolean(e.removal() != null);
            if (e.removal() != null) {
                id(out, e.removal().placement());
                optionalVv(out, e.removal().content());
            }
        });
    }

    static EdgeRecord edge(byte[] b) {
        return read(b, "edge", in -> {
            OpId id = id(in);
            OpId node = id(in);
            Placement p = placement(in);
            EdgeRecord.Removal removal = in.readBoolean() ? new EdgeRecord.Removal(id(in), optionalVv(in)) : null;
            return new EdgeRecord(id, node, p, removal);
        });
    }

    static byte[] encode(MoveRecord m) {
        return write(out -> {
            id(out, m.id());
            id(out, m.edge());
            placement(out, m.to());
            out.writeBoolean(m.before() != null);
            if (m.before() != null) {
                placement(out, m.before());
            }
            out.writeBoolean(m.applied());
        });
    }

    static MoveRecord move(byte[] b) {
        return read(b, "move", in -> new MoveRecord(id(in), id(in), placement(in),
                in.readBoolean() ? placement(in) : null, in.readBoolean()));
    }

    // ---- fields -----------------------------------------------------------------------------

    private static void id(DataOutputStream out, OpId id) throws IOException {
        out.writeLong(id.hlc());
        out.writeUTF(id.site());
    }

    private static OpId id(DataInputStream in) throws IOException {
        return new OpId(in.readLong(), in.readUTF());
    }

    private static void placement(DataOutputStream out, Placement p) throws IOException {
        id(out, p.parent());
        out.writeUTF(p.name());
        id(out, p.stamp());
    }

    private static Placement placement(DataInputStream in) throws IOException {
        return new Placement(id(in), in.readUTF(), id(in));
    }

    private static void intRegister(DataOutputStream out, Register<Integer> r) throws IOException {
        out.writeInt(r.value());
        id(out, r.stamp());
    }

    private static Register<Integer> intRegister(DataInputStream in) throws IOException {
        return new Register<>(in.readInt(), id(in));
    }

    private static void longRegister(DataOutputStream out, Register<Long> r) throws IOException {
        out.writeLong(r.value());
        id(out, r.stamp());
    }

    private static Register<Long> longRegister(DataInputStream in) throws IOException {
        return new Register<>(in.readLong(), id(in));
    }

    private static void vv(DataOutputStream out, VersionVector vv) throws IOException {
        out.writeInt(vv.counts().size());
        for (Map.Entry<String, Long> e : vv.counts().entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
    }

    private static VersionVector vv(DataInputStream in) throws IOException {
        Map<String, Long> counts = new TreeMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            counts.put(in.readUTF(), in.readLong());
        }
        return new VersionVector(counts);
    }

    private static void optionalVv(DataOutputStream out, VersionVector vv) throws IOException {
        out.writeBoolean(vv != null);
        if (vv != null) {
            vv(out, vv);
        }
    }

    private static VersionVector optionalVv(DataInputStream in) throws IOException {
        return in.readBoolean() ? vv(in) : null;
    }

    private static void manifest(DataOutputStream out, Manifest m) throws IOException {
        out.writeLong(m.size());
        out.writeInt(m.blocks().size());
        for (Manifest.Block b : m.blocks()) {
            out.writeLong(b.index());
            out.write(b.ref().hash());
            out.writeInt(b.ref().length());
        }
    }

    private static Manifest manifest(DataInputStream in) throws IOException {
        long size = in.readLong();
        int n = in.readInt();
        List<Manifest.Block> blocks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long index = in.readLong();
            byte[] hash = new byte[32];
            in.readFully(hash);
            blocks.add(new Manifest.Block(index, new BlockRef(hash, in.readInt())));
        }
        return new Manifest(size, blocks);
    }

    private static void optionalBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeBoolean(b != null);
        if (b != null) {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static byte[] optionalBytes(DataInputStream in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    // ---- framing ----------------------------------------------------------------------------

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] b, String what, Reader<T> r) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new IllegalStateException("a replica " + what + " record has version " + version
                        + "; this StrataFS reads version " + VERSION);
            }
            T value = r.read(in);
            if (in.available() != 0) {
                throw new IllegalStateException("a replica " + what + " record has " + in.available() + " bytes too many");
            }
            return value;
        } catch (IOException e) {
            throw new IllegalStateException("a replica " + what + " record is unreadable: " + e.getMessage(), e);
        }
    }
}
