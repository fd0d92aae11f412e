package io.stratafs.journal;

import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The object {@code head/<site>}: how far a site's log goes (its last sequence, the first sequence of
 * the segment holding it, that envelope's clock stamp) and when the site wrote it. The one object a
 * site overwrites, so a peer learns with one small GET whether anything is new, and in the common
 * case the exact segment to fetch without a LIST. Only a hint: readers trust the segments, and a
 * missing or stale head only costs a listing.
 */
public record SiteHead(long lastSeq, long segmentFirst, long lastHlc, long writtenMillis) {
    static final byte[] MAGIC = "SHD1".getBytes(StandardCharsets.US_ASCII);
    private static final int SIZE = 4 + 8 * 4 + 4;

    public SiteHead {
        if (lastSeq < 1 || segmentFirst < 1 || segmentFirst > lastSeq) {
            throw new IllegalArgumentException("a head names a segment " + segmentFirst + ".." + lastSeq
                    + " that cannot exist");
        }
    }

    /** The key of the segment holding {@link #lastSeq}. */
    public String segmentKey(String site) {
        return ObjectKeys.opLogSegment(site, segmentFirst, lastSeq);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.put(MAGIC).putLong(lastSeq).putLong(segmentFirst).putLong(lastHlc).putLong(writtenMillis);
        b.putInt(crc(b.array()));
        return b.array();
    }

    public static SiteHead decode(byte[] bytes, String key) throws LogIntegrityException {
        if (bytes.length != SIZE || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new LogIntegrityException(key + " is not a StrataFS site head (" + bytes.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, MAGIC.length, SIZE - MAGIC.length);
        long last = b.getLong();
        long first = b.getLong();
        long hlc = b.getLong();
        long written = b.getLong();
        if (b.getInt() != crc(bytes)) {
            throw new LogIntegrityException(key + " is corrupt (CRC32C mismatch)");
        }
        try {
            return new SiteHead(last, first, hlc, written);
        } catch (IllegalArgumentException e) {
            throw new LogIntegrityException(key + " is corrupt: " + e.getMessage());
        }
    }

    /** The site's head in {@code store}, or null when it has none yet. */
    public static SiteHead read(ObjectStore store, String site) throws StoreException {
        String key = ObjectKeys.siteHead(site);
        try {
            return decode(store.get(key), key);
        } catch (ObjectNotFoundException e) {
            return null;
        }
    }

    public void write(ObjectStore store, String site) throws StoreException {
        store.put(ObjectKeys.siteHead(site), encode());
    }

    private static int crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, SIZE - 4);
        return (int) crc.getValue();
    }
}
