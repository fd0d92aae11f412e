package io.stratafs.meta;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The local write-ahead file of {@link LmdbKv}: every write's changes are appended here with write(2)
 * before the write returns, so they survive a kill of the daemon (the page cache keeps them) while
 * LMDB commits only once per group. {@link #sync} (fdatasync, and the directory when a file is new)
 * makes them survive a power loss too. Layout in docs/FORMAT.md ("Write-ahead file").
 *
 * <p>The file is split in segments named after the first record's sequence number: when a group is
 * handed to LMDB the current segment is sealed and a new one started, and the sealed one is deleted
 * once LMDB committed the group. At open, the records after LMDB's last applied one are replayed in
 * order; a record that is torn, fails its checksum or does not follow its predecessor ends the replay.
 *
 * <p>Not thread-safe: {@link LmdbKv} calls it under its writer lock.
 */
final class Wal implements AutoCloseable {
    static final byte[] MAGIC = "SFSWAL01".getBytes(StandardCharsets.US_ASCII);
    static final int FILE_HEADER = 16;
    /** Payload length (4) and sequence number (8) before the payload, CRC-32C (4) after it. */
    static final int RECORD_HEAD = 12;
    static final int RECORD_TAIL = 4;
    private static final String PREFIX = "wal-";

    private final Path dir;
    private final DiskSeam seam;
    private Segment current;
    private Segment sealed;
    private boolean dirUnsynced;
    /** Why no record can be appended any more, or null. */
    private String broken;

    /**
     * One segment file. Written through a FileOutputStream, not a FileChannel: an interrupt of the
     * writing thread (an executor shut down) would close a channel for every later writer.
     */
    private static final class Segment {
        final Path path;
        final FileOutputStream out;
        long length;

        Segment(Path path, FileOutputStream out) {
            this.path = path;
            this.out = out;
        }

        void write(byte[] b) throws IOException {
            out.write(b);
            length += b.length;
        }
    }

    /** Opens a fresh segment for records from {@code nextSeq} on, deleting the segments found (replayed already). */
    Wal(Path dir, long nextSeq, DiskSeam seam) {
        this.dir = dir;
        this.seam = seam;
        try {
            Files.createDirectories(dir);
            for (Path old : segments(dir)) {
                Files.delete(old);
            }
        } catch (IOException e) {
            throw new MetaException("cannot prepare the write-ahead directory " + dir + ": " + e.getMessage(), e);
        }
        current = create(nextSeq);
    }

    private Segment create(long firstSeq) {
        Path path = dir.resolve(String.format("%s%016x", PREFIX, firstSeq));
        try {
            Segment s = new Segment(path, new FileOutputStream(path.toFile()));
            dirUnsynced = true;
            s.write(ByteBuffer.allocate(FILE_HEADER).put(MAGIC).putLong(firstSeq).array());
            return s;
        } catch (IOException e) {
            throw new MetaException("cannot create the write-ahead file " + path + " (is the cache directory full?): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Appends the record whose payload {@code framed} holds between {@link #RECORD_HEAD} free bytes
     * and {@link #RECORD_TAIL} free ones ({@code JournalCodec.encode(time, mutations, RECORD_HEAD,
     * RECORD_TAIL)}): one write(2) per record instead of three, and no copy of the payload. Returns
     * once write(2) accepted it (no flush).
     */
    void append(long seq, byte[] framed) {
        append(seq, List.of(framed));
    }

    /**
     * Appends the record whose payload {@code pieces} hold between {@link #RECORD_HEAD} free bytes
     * at the start of the first and {@link #RECORD_TAIL} free ones at the end of the last
     * ({@code JournalCodec.encodePieces}): one write(2) per piece, the large values written from
     * the caller's arrays. The first and the last piece are filled in; the others are left alone.
     * A write that fails cuts the file back to where the record started, as a torn record would
     * end every later replay.
     */
    void append(long seq, List<byte[]> pieces) {
        byte[] first = pieces.get(0);
        byte[] last = pieces.get(pieces.size() - 1);
        long total = 0;
        for (byte[] p : pieces) {
            total += p.length;
        }
        long payload = total - RECORD_HEAD - RECORD_TAIL;
        if (payload < 0 || payload > Integer.MAX_VALUE || first.length < RECORD_HEAD || last.length < RECORD_TAIL) {
            throw new IllegalArgumentException("a framed write-ahead record needs " + (RECORD_HEAD + RECORD_TAIL)
                    + " bytes around its payload");
        }
        ByteBuffer.wrap(first).putInt(0, (int) payload).putLong(4, seq);
        CRC32C crc = new CRC32C();
        for (int i = 0; i < pieces.size(); i++) {
            byte[] p = pieces.get(i);
            crc.update(p, 0, i == pieces.size() - 1 ? p.length - RECORD_TAIL : p.length);
        }
        ByteBuffer.wrap(last).putInt(last.length - RECORD_TAIL, (int) crc.getValue());
        if (broken != null) {
            throw new MetaException(broken);
        }
        long start = current.length;
        try {
            for (byte[] p : pieces) {
                current.write(p);
            }
        } catch (IOException e) {
            // a torn record would end every later replay before the records after it: cut it off
            try {
                current.out.getChannel().truncate(start);
                current.length = start;
            } catch (IOException again) {
                broken = "the write-ahead file " + current.path + " has a torn record that cannot be cut off ("
                        + again.getMessage() + "); no change is accepted until the volume is mounted again";
            }
            throw new MetaException("cannot append to the write-ahead file " + current.path
                    + " (is the cache directory full?): " + e.getMessage(), e);
        }
    }

    /** Seals the current segment (its records go to LMDB as one group) and starts the next one. */
    void seal(long nextSeq) {
        if (sealed != null) {
            throw new IllegalStateException("a sealed write-ahead segment is still waiting for its LMDB commit");
        }
        Segment next = create(nextSeq);
        sealed = current;
        current = next;
    }

    /** Deletes the sealed segment: LMDB committed its records. */
    void dropSealed() {
        if (sealed == null) {
            return;
        }
        Segment s = sealed;
        sealed = null;
        try {
            s.out.close();
            Files.deleteIfExists(s.path);
        } catch (IOException e) {
            // harmless: its records are at or below LMDB's applied number and are skipped at open
            org.slf4j.LoggerFactory.getLogger(Wal.class).warn("cannot delete the write-ahead file {}: {}", s.path, e.getMessage());
        }
    }

    /** Makes every appended record survive a power loss. */
    void sync() {
        try {
            if (sealed != null) {
                sealed.out.getFD().sync();
            }
            current.out.getFD().sync();
            if (dirUnsynced) {
                syncDir();
                dirUnsynced = false;
            }
            if (sealed != null) {
                seam.walSynced(sealed.path, sealed.length);
            }
            seam.walSynced(current.path, current.length);
        } catch (IOException e) {
            throw new MetaException("cannot flush the write-ahead file in " + dir + " to disk: " + e.getMessage(), e);
        }
    }

    /** fsyncs the directory, so new segment files exist after a power loss; a pending interrupt is kept for later. */
    private void syncDir() throws IOException {
        boolean interrupted = Thread.interrupted();
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closes the files; with {@code delete}, removes them (LMDB holds everything). */
    void close(boolean delete) {
        for (Segment s : new Segment[] {sealed, current}) {
            if (s == null) {
                continue;
            }
            try {
                s.out.close();
                if (delete) {
                    Files.deleteIfExists(s.path);
                }
            } catch (IOException e) {
                org.slf4j.LoggerFactory.getLogger(Wal.class).warn("cannot close the write-ahead file {}: {}", s.path, e.getMessage());
            }
        }
        sealed = null;
        current = null;
    }

    @Override
    public void close() {
        close(false);
    }

    static List<Path> segments(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(PREFIX)).sorted().toList();
        }
    }

    /** What a replay found. */
    record Replayed(long lastSeq, int applied, String stoppedBecause) {
    }

    /**
     * Hands the payload of every record after {@code appliedSeq}, in order, to {@code apply}. Stops at
     * the first record that is torn, fails its checksum or does not follow the one before.
     */
    static Replayed replay(Path dir, long appliedSeq, Consumer<byte[]> apply) {
        Replayer r = new Replayer(appliedSeq, apply);
        try {
            for (Path p : segments(dir)) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                    String bad = r.segment(ch);
                    if (bad != null) {
                        return new Replayed(r.lastSeq, r.applied, p.getFileName() + ": " + bad);
                    }
                }
            }
        } catch (IOException e) {
            throw new MetaException("cannot read the write-ahead files in " + dir + ": " + e.getMessage(), e);
        }
        return new Replayed(r.lastSeq, r.applied, null);
    }

    private static final class Replayer {
        final long appliedSeq;
        final Consumer<byte[]> apply;
        long lastSeq;
        int applied;

        Replayer(long appliedSeq, Consumer<byte[]> apply) {
            this.appliedSeq = appliedSeq;
            this.apply = apply;
            this.lastSeq = appliedSeq;
        }

        /** Replays one segment; returns why it stopped early, or null at its end. */
        String segment(FileChannel ch) throws IOException {
            long size = ch.size();
            if (size < FILE_HEADER) {
                return size == 0 ? null : "torn file header"; // created, never written to: nothing lost
            }
            ByteBuffer fileHead = ByteBuffer.allocate(FILE_HEADER);
            if (read(ch, fileHead, 0) < FILE_HEADER || !fileHead.flip().slice(0, MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
                return "no write-ahead header";
            }
            long pos = FILE_HEADER;
            ByteBuffer head = ByteBuffer.allocate(RECORD_HEAD);
            while (pos < size) {
                head.clear();
                if (read(ch, head, pos) < RECORD_HEAD) {
                    return "torn record header at byte " + pos;
                }
                head.flip();
                int len = head.getInt(0);
                long seq = head.getLong(4);
                if (len < 0 || pos + RECORD_HEAD + len + RECORD_TAIL > size) {
                    return "torn record at byte " + pos;
                }
                ByteBuffer body = ByteBuffer.allocate(len + RECORD_TAIL);
                read(ch, body, pos + RECORD_HEAD);
                body.flip();
                CRC32C crc = new CRC32C();
                crc.update(head.duplicate());
                crc.update(body.duplicate().limit(len));
                if ((int) crc.getValue() != body.getInt(len)) {
                    return "checksum mismatch at byte " + pos;
                }
                if (seq > appliedSeq) {
                    if (seq != lastSeq + 1) {
                        return "record " + seq + " where " + (lastSeq + 1) + " was expected";
                    }
                    byte[] payload = new byte[len];
                    body.get(payload);
                    apply.accept(payload);
                    applied++;
                    lastSeq = seq;
                }
                pos += RECORD_HEAD + len + RECORD_TAIL;
            }
            return null;
        }
    }

    private static int read(FileChannel ch, ByteBuffer into, long pos) throws IOException {
        int total = 0;
        while (into.hasRemaining()) {
            int n = ch.read(into, pos + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
