package io.stratafs.journal;

import io.stratafs.meta.BlockRef;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import io.stratafs.sync.VersionVector;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The binary form of one {@link Envelope} (docs/FORMAT.md, "Logical log"): a version byte, then
 * every field in a fixed order, big-endian, strings as UTF-8 with a 4-byte length. Encoding is
 * deterministic (maps in key order), so a retried upload of the same envelopes is byte-identical
 * and a conditional create can tell a retry from another writer. Integrity (CRC32C) is the
 * segment's job ({@link LogSegments}); this class refuses what cannot be an envelope.
 */
public final class EnvelopeCodec {
    /** The encoding version written; a reader refuses any other. */
    public static final int VERSION = 1;

    private static final int CREATE = 1;
    private static final int LINK = 2;
    private static final int MOVE = 3;
    private static final int REMOVE = 4;
    private static final int SET_ATTR = 5;
    private static final int SET_XATTR = 6;
    private static final int WRITE = 7;
    private static final int HASH_BYTES = 32;

    private EnvelopeCodec() {
    }

    /** Fails (IllegalArgumentException) on what no peer could decode back: a missing field, a string that is not Unicode. */
    public static byte[] encode(Envelope e) {
        Out out = new Out();
        out.u8(VERSION);
        out.string(e.site(), "site");
        out.i64(e.seq());
        Map<String, Long> deps = new TreeMap<>(e.deps());
        out.i32(deps.size());
        deps.forEach((site, seq) -> {
            out.string(site, "deps site");
            out.i64(seq);
        });
        op(out, e.op());
        return out.bytes();
    }

    private static void op(Out out, Op op) {
        if (op instanceof Op.Create c) {
            out.u8(CREATE);
            out.id(c.id(), "id");
            out.id(c.parent(), "parent");
            out.string(c.name(), "name");
            out.i32(c.mode());
            out.i32(c.uid());
            out.i32(c.gid());
            out.i64(c.rdev());
            out.optionalBytes(c.symlinkTarget());
        } else if (op instanceof Op.Link l) {
            out.u8(LINK);
            out.id(l.id(), "id");
            out.id(l.node(), "node");
            out.id(l.parent(), "parent");
            out.string(l.name(), "name");
        } else if (op instanceof Op.Move m) {
            out.u8(MOVE);
            out.id(m.id(), "id");
            out.id(m.edge(), "edge");
            out.id(m.parent(), "parent");
            out.string(m.name(), "name");
            out.flag(m.replaced() != null);
            if (m.replaced() != null) {
                out.id(m.replaced(), "replaced");
            }
            out.flag(m.replacedSeen() != null);
            if (m.replacedSeen() != null) {
                out.seen(m.replacedSeen());
            }
        } else if (op instanceof Op.Remove r) {
            out.u8(REMOVE);
            out.id(r.id(), "id");
            out.id(r.edge(), "edge");
            out.seen(required(r.seen(), "seen"));
        } else if (op instanceof Op.SetAttr a) {
            out.u8(SET_ATTR);
            out.id(a.id(), "id");
            out.id(a.node(), "node");
            out.i32(a.mask());
            out.i32(a.mode());
            out.i32(a.uid());
            out.i32(a.gid());
            out.i64(a.atimeNs());
            out.i64(a.mtimeNs());
        } else if (op instanceof Op.SetXattr x) {
            out.u8(SET_XATTR);
            out.id(x.id(), "id");
            out.id(x.node(), "node");
            out.string(x.name(), "xattr name");
            out.optionalBytes(x.value());
        } else if (op instanceof Op.Write w) {
            out.u8(WRITE);
            out.id(w.id(), "id");
            out.id(w.node(), "node");
            out.vv(required(w.vv(), "version vector"));
            out.manifest(required(w.content(), "content"));
            out.i64(w.mtimeNs());
        } else {
            throw new IllegalArgumentException("no encoding for operation " + op);
        }
    }

    /** Decodes one envelope; {@code where} names it in errors (object and record). */
    public static Envelope decode(byte[] bytes, String where) throws LogIntegrityException {
        In in = new In(ByteBuffer.wrap(bytes), where);
        try {
            int version = in.u8();
            if (version != VERSION) {
                throw new LogIntegrityException(where + " is envelope encoding version " + version
                        + ", which this StrataFS cannot read (it reads version " + VERSION + "; upgrade StrataFS)");
            }
            String site = in.string("site");
            long seq = in.i64();
            int count = in.count("deps");
            Map<String, Long> deps = new TreeMap<>();
            for (int i = 0; i < count; i++) {
                deps.put(in.string("deps site"), in.i64());
            }
            Op op = in.op();
            if (in.b.hasRemaining()) {
                throw new LogIntegrityException(where + " has " + in.b.remaining() + " bytes after its end");
            }
            return new Envelope(site, seq, deps, op);
        } catch (BufferUnderflowException e) {
            throw new LogIntegrityException(where + " is truncated");
        } catch (IllegalArgumentException e) {
            throw new LogIntegrityException(where + " is not a valid operation: " + e.getMessage());
        }
    }

    private static <T> T required(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("an operation's " + field + " is missing");
        }
        return value;
    }

    private static final class Out {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        private final byte[] scratch = new byte[8];

        void u8(int v) {
            b.write(v);
        }

        void flag(boolean v) {
            b.write(v ? 1 : 0);
        }

        void i32(int v) {
            ByteBuffer.wrap(scratch).putInt(0, v);
            b.write(scratch, 0, 4);
        }

        void i64(long v) {
            ByteBuffer.wrap(scratch).putLong(0, v);
            b.write(scratch, 0, 8);
        }

        void bytes(byte[] v) {
            i32(v.length);
            b.writeBytes(v);
        }

        void optionalBytes(byte[] v) {
            flag(v != null);
            if (v != null) {
                bytes(v);
            }
        }

        void string(String s, String field) {
            required(s, field);
            try {
                ByteBuffer enc = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
                byte[] v = new byte[enc.remaining()];
                enc.get(v);
                bytes(v);
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("the " + field + " \"" + s + "\" is not valid Unicode", e);
            }
        }

        void id(OpId id, String field) {
            required(id, field);
            i64(id.hlc());
            string(id.site(), field + " site");
        }

        void vv(VersionVector vv) {
            i32(vv.counts().size());
            vv.counts().forEach((site, n) -> {
                string(site, "version vector site");
                i64(n);
            });
        }

        void seen(Op.Seen s) {
            id(s.placement(), "seen placement");
            flag(s.content() != null);
            if (s.content() != null) {
                vv(s.content());
            }
        }

        void manifest(Manifest m) {
            i64(m.size());
            i32(m.blocks().size());
            for (Manifest.Block block : m.blocks()) {
                i64(block.index());
                byte[] hash = required(block.ref(), "block").hash();
                if (hash == null || hash.length != HASH_BYTES) {
                    throw new IllegalArgumentException("block " + block.index() + " has no 32-byte SHA-256");
                }
                b.writeBytes(hash);
                i32(block.ref().length());
            }
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }

    private static final class In {
        final ByteBuffer b;
        final String where;

        In(ByteBuffer b, String where) {
            this.b = b;
            this.where = where;
        }

        int u8() {
            return b.get() & 0xff;
        }

        boolean flag(String field) throws LogIntegrityException {
            int v = u8();
            if (v > 1) {
                throw new LogIntegrityException(where + ": " + field + " flag is " + v + ", not 0 or 1");
            }
            return v == 1;
        }

        int i32() {
            return b.getInt();
        }

        long i64() {
            return b.getLong();
        }

        /** A length or count, which can never exceed the bytes left (each element takes at least one). */
        int count(String field) throws LogIntegrityException {
            int n = b.getInt();
            if (n < 0 || n > b.remaining()) {
                throw new LogIntegrityException(where + " is truncated or corrupt: " + field + " length " + n
                        + " exceeds the " + b.remaining() + " bytes left");
            }
            return n;
        }

        byte[] bytes(String field) throws LogIntegrityException {
            byte[] v = new byte[count(field)];
            b.get(v);
            return v;
        }

        byte[] optionalBytes(String field) throws LogIntegrityException {
            return flag(field) ? bytes(field) : null;
        }

        String string(String field) throws LogIntegrityException {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes(field))).toString();
            } catch (CharacterCodingException e) {
                throw new LogIntegrityException(where + ": " + field + " is not valid UTF-8");
            }
        }

        OpId id(String field) throws LogIntegrityException {
            long hlc = i64();
            return new OpId(hlc, string(field + " site"));
        }

        VersionVector vv(String field) throws LogIntegrityException {
            int n = count(field);
            Map<String, Long> counts = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                counts.put(string(field + " site"), i64());
            }
            return new VersionVector(counts);
        }

        Op.Seen seen() throws LogIntegrityException {
            OpId placement = id("seen placement");
            return new Op.Seen(placement, flag("seen content") ? vv("seen content") : null);
        }

        Manifest manifest() throws LogIntegrityException {
            long size = i64();
            int n = count("manifest blocks");
            List<Manifest.Block> blocks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long index = i64();
                byte[] hash = new byte[HASH_BYTES];
                b.get(hash);
                blocks.add(new Manifest.Block(index, new BlockRef(hash, i32())));
            }
            return new Manifest(size, blocks);
        }

        Op op() throws LogIntegrityException {
            int kind = u8();
            return switch (kind) {
                case CREATE -> new Op.Create(id("id"), id("parent"), string("name"), i32(), i32(), i32(), i64(),
                        optionalBytes("symlink target"));
                case LINK -> new Op.Link(id("id"), id("node"), id("parent"), string("name"));
                case MOVE -> {
                    OpId id = id("id");
                    OpId edge = id("edge");
                    OpId parent = id("parent");
                    String name = string("name");
                    OpId replaced = flag("replaced") ? id("replaced") : null;
                    Op.Seen seen = flag("replaced seen") ? seen() : null;
                    yield new Op.Move(id, edge, parent, name, replaced, seen);
                }
                case REMOVE -> new Op.Remove(id("id"), id("edge"), seen());
                case SET_ATTR -> new Op.SetAttr(id("id"), id("node"), i32(), i32(), i32(), i32(), i64(), i64());
                case SET_XATTR -> new Op.SetXattr(id("id"), id("node"), string("xattr name"), optionalBytes("xattr value"));
                case WRITE -> new Op.Write(id("id"), id("node"), vv("version vector"), manifest(), i64());
                default -> throw new LogIntegrityException(where + " has unknown operation kind " + kind);
            };
        }
    }
}
