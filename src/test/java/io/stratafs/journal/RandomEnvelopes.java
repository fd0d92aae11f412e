package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.meta.BlockRef;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import io.stratafs.sync.VersionVector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Seeded random envelopes of every operation kind (nulls, empty and odd values included), and a field-by-field comparison. */
final class RandomEnvelopes {
    static final int KINDS = 7;
    private static final String[] SITES = {"A", "B", "site-c", "dc.eu-1", "ÿ東京"};
    private final Random random;
    private long hlc = 1L << 20;

    RandomEnvelopes(long seed) {
        random = new Random(seed);
    }

    /** Consecutive envelopes {@code first..first+count-1} of {@code site}. */
    List<Envelope> run(String site, long first, int count) {
        List<Envelope> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(envelope(site, first + i, random.nextInt(KINDS)));
        }
        return out;
    }

    Envelope envelope(String site, long seq, int kind) {
        Map<String, Long> deps = new TreeMap<>();
        for (int i = random.nextInt(4); i > 0; i--) {
            deps.put(site(), (long) random.nextInt(1_000_000));
        }
        return new Envelope(site, seq, deps, op(new OpId(hlc += 1 + random.nextInt(1 << 20), site), kind));
    }

    private Op op(OpId id, int kind) {
        return switch (kind) {
            case 0 -> new Op.Create(id, opId(), name(), random.nextInt(), random.nextInt(), random.nextInt(),
                    random.nextLong(), random.nextBoolean() ? null : bytes(random.nextInt(300)));
            case 1 -> new Op.Link(id, opId(), opId(), name());
            case 2 -> random.nextBoolean() ? new Op.Move(id, opId(), opId(), name(), null, null)
                    : new Op.Move(id, opId(), opId(), name(), opId(), seen());
            case 3 -> new Op.Remove(id, opId(), seen());
            case 4 -> new Op.SetAttr(id, opId(), random.nextInt(32), random.nextInt(), random.nextInt(), random.nextInt(),
                    random.nextLong(), random.nextLong());
            case 5 -> new Op.SetXattr(id, opId(), name(), random.nextBoolean() ? null : bytes(random.nextInt(200)));
            default -> new Op.Write(id, opId(), vv(), manifest(), random.nextLong());
        };
    }

    private OpId opId() {
        return random.nextInt(8) == 0 ? OpId.ROOT : new OpId(random.nextLong(), site());
    }

    private Op.Seen seen() {
        return new Op.Seen(opId(), random.nextBoolean() ? null : vv());
    }

    private VersionVector vv() {
        Map<String, Long> m = new TreeMap<>();
        for (int i = random.nextInt(4); i > 0; i--) {
            m.put(site(), 1 + (long) random.nextInt(1000));
        }
        return new VersionVector(m);
    }

    private Manifest manifest() {
        List<Manifest.Block> blocks = new ArrayList<>();
        long index = 0;
        for (int i = random.nextInt(5); i > 0; i--) {
            index += 1 + random.nextInt(3);
            blocks.add(new Manifest.Block(index, new BlockRef(bytes(32), 1 + random.nextInt(4 << 20))));
        }
        return new Manifest(random.nextLong() & Long.MAX_VALUE, blocks);
    }

    private String site() {
        return SITES[random.nextInt(SITES.length)];
    }

    private String name() {
        StringBuilder b = new StringBuilder();
        for (int i = random.nextInt(12); i >= 0; i--) {
            int pick = random.nextInt(4);
            b.appendCodePoint(pick == 0 ? 'a' + random.nextInt(26) : pick == 1 ? 0x00e0 + random.nextInt(64)
                    : pick == 2 ? 0x1F600 + random.nextInt(64) : ' ' + random.nextInt(95));
        }
        return b.toString();
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /**
     * Envelopes compared field by field: Manifest.Block holds a BlockRef whose hash array makes
     * record equality reference equality, so Write is compared by hand.
     */
    static void assertSame(Envelope expected, Envelope actual) {
        assertEquals(expected.site(), actual.site());
        assertEquals(expected.seq(), actual.seq());
        assertEquals(expected.deps(), actual.deps());
        if (expected.op() instanceof Op.Write w && actual.op() instanceof Op.Write a) {
            assertEquals(w.id(), a.id());
            assertEquals(w.node(), a.node());
            assertEquals(w.vv(), a.vv());
            assertEquals(w.mtimeNs(), a.mtimeNs());
            assertEquals(w.content().size(), a.content().size());
            assertEquals(w.content().blocks().size(), a.content().blocks().size());
            for (int i = 0; i < w.content().blocks().size(); i++) {
                Manifest.Block x = w.content().blocks().get(i);
                Manifest.Block y = a.content().blocks().get(i);
                assertEquals(x.index(), y.index());
                assertArrayEquals(x.ref().hash(), y.ref().hash());
                assertEquals(x.ref().length(), y.ref().length());
            }
        } else {
            assertEquals(expected.op(), actual.op());
        }
    }

    static void assertSame(List<Envelope> expected, List<Envelope> actual) {
        assertEquals(expected.size(), actual.size(), "envelope count");
        for (int i = 0; i < expected.size(); i++) {
            assertSame(expected.get(i), actual.get(i));
        }
    }
}
