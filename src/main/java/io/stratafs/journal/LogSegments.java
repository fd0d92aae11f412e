package io.stratafs.journal;

import io.stratafs.store.ObjectKeys;
import io.stratafs.sync.Envelope;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Logical log segments (docs/FORMAT.md, "Logical log"): the magic {@code SJS2}, then per envelope
 * its sequence (8), length (4), CRC32C (4) of the sequence, length and envelope bytes, and the
 * envelope ({@link EnvelopeCodec}). A segment holds consecutive envelopes of one site and is named
 * {@link ObjectKeys#opLogSegment} for its first and last, under {@code oplog/<site>/}, apart from
 * the physical journal's segments ({@code SJS1} under {@code journal/<site>/}, writeback.SegmentCodec),
 * which number their records from 1 too.
 */
public final class LogSegments {
    static final byte[] MAGIC = "SJS2".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PHYSICAL_MAGIC = "SJS1".getBytes(StandardCharsets.US_ASCII);
    private static final int RECORD_HEADER = 16;

    private LogSegments() {
    }

    /** The key of the segment holding {@code envelopes} (one site's, consecutive). */
    public static String key(List<Envelope> envelopes) {
        checkRun(envelopes);
        Envelope first = envelopes.get(0);
        return ObjectKeys.opLogSegment(first.site(), first.seq(), envelopes.get(envelopes.size() - 1).seq());
    }

    public static byte[] encode(List<Envelope> envelopes) {
        checkRun(envelopes);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        for (Envelope e : envelopes) {
            byte[] body = EnvelopeCodec.encode(e);
            ByteBuffer head = ByteBuffer.allocate(RECORD_HEADER);
            head.putLong(e.seq()).putInt(body.length).putInt(crc(e.seq(), body.length, body, 0));
            out.writeBytes(head.array());
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /**
     * Decodes the segment stored at {@code key}, checking every record's CRC and that the records are
     * exactly the named site's {@code first..last}; anything else is refused with the key and record.
     */
    public static List<Envelope> decode(byte[] bytes, String key) throws LogIntegrityException {
        Range range = parseKey(key);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        checkMagic(b, key);
        List<Envelope> out = new ArrayList<>();
        long expected = range.first();
        while (b.hasRemaining()) {
            String where = "record " + expected + " of log segment " + key;
            if (b.remaining() < RECORD_HEADER) {
                throw new LogIntegrityException(where + " is truncated (" + b.remaining() + " bytes of its header)");
            }
            long seq = b.getLong();
            int length = b.getInt();
            int crc = b.getInt();
            if (length < 0 || length > b.remaining()) {
                throw new LogIntegrityException(where + " is truncated or corrupt (length " + length + ", "
                        + b.remaining() + " bytes left)");
            }
            int at = b.position();
            if (crc(seq, length, bytes, at) != crc) {
                throw new LogIntegrityException(where + " is corrupt (CRC32C mismatch at byte " + (at - RECORD_HEADER) + ")");
            }
            if (seq != expected) {
                throw new LogIntegrityException(where + " holds sequence " + seq + " instead");
            }
            Envelope e = EnvelopeCodec.decode(Arrays.copyOfRange(bytes, at, at + length), where);
            b.position(at + length);
            if (!e.site().equals(range.site()) || e.seq() != seq) {
                throw new LogIntegrityException(where + " holds site " + e.site() + "'s envelope " + e.seq());
            }
            out.add(e);
            expected++;
        }
        if (expected != range.last() + 1) {
            throw new LogIntegrityException("log segment " + key + " ends after record " + (expected - 1)
                    + " instead of " + range.last());
        }
        return out;
    }

    /** What a segment's key says it holds. */
    public record Range(String site, long first, long last, String key) {
    }

    /** The site and records a segment key names; a key that is not a segment name is refused. */
    public static Range parseKey(String key) throws LogIntegrityException {
        Range r = rangeOf(key);
        if (r == null) {
            throw new LogIntegrityException(key + " is not a log segment name (oplog/<site>/<first>-<last>, 16 hex digits each)");
        }
        return r;
    }

    /**
     * Like {@link #parseKey}, but null for a key that is not a segment name. Listings skip such keys
     * (a server's temporary upload files show up in some listings); a missing segment is still
     * caught, as a gap between the ranges of the ones that are there.
     */
    public static Range rangeOf(String key) {
        try {
            String site = ObjectKeys.siteOf(key);
            long first = ObjectKeys.segmentFirst(key);
            long last = ObjectKeys.segmentLast(key);
            if (!key.equals(ObjectKeys.opLogSegment(site, first, last)) || first < 1 || last < first) {
                return null;
            }
            return new Range(site, first, last, key);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The segments among listed keys, in key order. */
    static List<Range> segmentsIn(List<String> keys) {
        List<Range> out = new ArrayList<>();
        for (String key : keys) {
            Range r = rangeOf(key);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    private static void checkRun(List<Envelope> envelopes) {
        if (envelopes.isEmpty()) {
            throw new IllegalArgumentException("a log segment needs at least one envelope");
        }
        Envelope first = envelopes.get(0);
        for (int i = 1; i < envelopes.size(); i++) {
            Envelope e = envelopes.get(i);
            if (!e.site().equals(first.site()) || e.seq() != first.seq() + i) {
                throw new IllegalArgumentException("a log segment holds consecutive envelopes of one site, but "
                        + e.site() + " " + e.seq() + " follows " + first.site() + " " + (first.seq() + i - 1));
            }
        }
    }

    private static void checkMagic(ByteBuffer b, String key) throws LogIntegrityException {
        byte[] magic = new byte[MAGIC.length];
        if (b.remaining() < magic.length) {
            throw new LogIntegrityException(key + " is too short to be a log segment (" + b.remaining() + " bytes)");
        }
        b.get(magic);
        if (Arrays.equals(magic, PHYSICAL_MAGIC)) {
            throw new LogIntegrityException(key + " is a format-1 physical journal segment (SJS1), not a logical log"
                    + " segment: that site's storage was written by an older StrataFS");
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new LogIntegrityException(key + " is not a StrataFS log segment (no SJS2 magic)");
        }
    }

    private static int crc(long seq, int length, byte[] body, int offset) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(12).putLong(seq).putInt(length).flip());
        crc.update(body, offset, length);
        return (int) crc.getValue();
    }
}
