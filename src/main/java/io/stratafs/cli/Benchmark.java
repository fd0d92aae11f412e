package io.stratafs.cli;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The workloads of {@code stratafs bench}, run in a scratch directory: a sequential write ended by
 * fsync, a sequential read after the page cache is dropped, small-file create/stat/read/delete, and
 * an unpacked tree (what {@code tar -x} does: mkdir, create, write, chmod, set mtime) that is then
 * removed. Plain java.nio on any directory, so figures compare across filesystems.
 */
final class Benchmark {
    static final int SMALL_FILE_BYTES = 4096;
    /** As many files per directory in the tree as bench.sh's tarball had (40 directories of 75). */
    static final int TREE_FILES_PER_DIR = 75;
    private static final int CHUNK = 1 << 20;
    private static final int PAGE = 4096;

    /** One measured workload: {@code count} units of {@code unit} done in {@code seconds}. */
    record Result(String workload, String label, String unit, double count, double seconds) {
        double rate() {
            return seconds > 0 ? count / seconds : 0;
        }
    }

    /** Told how far a workload has got; prints only on a terminal. */
    interface Progress {
        void update(String label, long done, long total);
    }

    private final Path scratch;
    private final long sizeBytes;
    private final int files;
    private final Progress progress;
    private boolean pageCacheDropped;
    private volatile boolean cancelled;

    Benchmark(Path scratch, long sizeBytes, int files, Progress progress) {
        this.scratch = scratch;
        this.sizeBytes = sizeBytes;
        this.files = files;
        this.progress = progress;
    }

    /** Whether the sequential read followed a drop of the page cache (root only), else it read warm. */
    boolean pageCacheDropped() {
        return pageCacheDropped;
    }

    /** Makes the running workload stop at its next file or chunk (from a shutdown hook: Ctrl-C, SIGTERM). */
    void cancel() {
        cancelled = true;
    }

    private void tick(String label, long done, long total) throws InterruptedIOException {
        if (cancelled) {
            throw new InterruptedIOException("interrupted during \"" + label + "\"");
        }
        progress.update(label, done, total);
    }

    List<Result> run() throws IOException {
        List<Result> out = new ArrayList<>();
        if (sizeBytes > 0) {
            Path big = scratch.resolve("sequential");
            out.add(sequentialWrite(big));
            pageCacheDropped = dropPageCache();
            out.add(sequentialRead(big));
            Files.delete(big);
        }
        if (files > 0) {
            smallFiles(out);
            tree(out);
        }
        return out;
    }

    private Result sequentialWrite(Path big) throws IOException {
        String label = "sequential write " + mib(sizeBytes) + ", fsync at the end";
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        byte[] random = new byte[CHUNK];
        new SplittableRandom(1).nextBytes(random);
        chunk.put(random).flip();
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(big, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long done = 0, n = 0; done < sizeBytes; n++) {
                stamp(chunk, n);
                chunk.limit((int) Math.min(CHUNK, sizeBytes - done));
                while (chunk.hasRemaining()) {
                    done += ch.write(chunk);
                }
                chunk.clear();
                tick(label, done, sizeBytes);
            }
            ch.force(true);
        }
        return new Result("sequential-write", label, "MiB/s", sizeBytes / (double) CHUNK, seconds(t0));
    }

    /**
     * Every 4 KiB page of the data is made unique by a counter in its first bytes: a filesystem that
     * deduplicates (StrataFS stores identical blocks once) must still store all of it, and producing
     * the data costs next to nothing inside the timed loop.
     */
    private static void stamp(ByteBuffer chunk, long chunkNumber) {
        for (int page = 0; page < CHUNK / PAGE; page++) {
            chunk.putLong(page * PAGE, chunkNumber * (CHUNK / PAGE) + page);
        }
    }

    private Result sequentialRead(Path big) throws IOException {
        String label = "sequential read " + mib(sizeBytes) + (pageCacheDropped ? ", page cache dropped" : ", warm (page cache not dropped: not root)");
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        long t0 = System.nanoTime();
        long done = 0;
        try (FileChannel ch = FileChannel.open(big, StandardOpenOption.READ)) {
            for (int n; (n = ch.read(buf)) >= 0; buf.clear()) {
                done += n;
                tick(label, done, sizeBytes);
            }
        }
        if (done != sizeBytes) {
            throw new IOException(big + " read back " + done + " bytes of the " + sizeBytes + " written");
        }
        return new Result("sequential-read", label, "MiB/s", sizeBytes / (double) CHUNK, seconds(t0));
    }

    /** Writes dirty pages of the scratch directory's filesystem out, then asks the kernel to drop clean ones. */
    private boolean dropPageCache() throws IOException {
        syncFilesystem();
        Path drop = Paths.get("/proc/sys/vm/drop_caches");
        if (!Files.isWritable(drop)) {
            return false;
        }
        try {
            Files.writeString(drop, "3");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** syncfs(2) of the filesystem holding the scratch directory, through coreutils' {@code sync -f}. */
    private void syncFilesystem() throws IOException {
        try {
            Process p = new ProcessBuilder("sync", "-f", scratch.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                throw new IOException("sync -f " + scratch + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while syncing " + scratch, e);
        }
    }

    private void smallFiles(List<Result> out) throws IOException {
        Path dir = Files.createDirectory(scratch.resolve("small"));
        // names are built before the clocks start, so the loops time the filesystem and little else
        Path[] names = new Path[files];
        for (int i = 0; i < files; i++) {
            names[i] = dir.resolve("f" + i);
        }
        ByteBuffer data = ByteBuffer.allocate(SMALL_FILE_BYTES);
        new SplittableRandom(2).nextBytes(data.array());
        String create = "create " + files + " files of 4 KiB";
        long t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            // distinct content per file, so a deduplicating filesystem stores every one
            data.putInt(0, i).clear();
            try (FileChannel ch = FileChannel.open(names[i], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(data);
            }
            tick(create, i + 1, files);
        }
        out.add(new Result("create", create, "files/s", files, seconds(t0)));
        String stat = "stat " + files + " files";
        t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            Files.readAttributes(names[i], BasicFileAttributes.class);
            tick(stat, i + 1, files);
        }
        out.add(new Result("stat", stat, "files/s", files, seconds(t0)));
        String read = "read " + files + " files of 4 KiB";
        t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            data.clear();
            try (FileChannel ch = FileChannel.open(names[i], StandardOpenOption.READ)) {
                while (data.hasRemaining() && ch.read(data) >= 0) {
                    continue;
                }
            }
            tick(read, i + 1, files);
        }
        out.add(new Result("read", read, "files/s", files, seconds(t0)));
        String delete = "delete " + files + " files";
        t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            Files.delete(names[i]);
            tick(delete, i + 1, files);
        }
        Files.delete(dir);
        out.add(new Result("delete", delete, "files/s", files, seconds(t0)));
    }

    /** A tree like an unpacked source tarball: files of 100 B to 20 KB in directories of 75. */
    private void tree(List<Result> out) throws IOException {
        Path root = Files.createDirectory(scratch.resolve("tree"));
        int dirs = (files + TREE_FILES_PER_DIR - 1) / TREE_FILES_PER_DIR;
        String unpack = "unpack a tree of " + files + " files in " + dirs + (dirs == 1 ? " directory" : " directories") + " (tar -x)";
        byte[] random = new byte[20_100];
        new SplittableRandom(3).nextBytes(random);
        FileTime mtime = FileTime.fromMillis(1_700_000_000_000L);
        var mode = PosixFilePermissions.fromString("rw-r--r--");
        long t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            int d = i / TREE_FILES_PER_DIR + 1;
            int f = i % TREE_FILES_PER_DIR + 1;
            Path dir = root.resolve("d" + d);
            if (f == 1) {
                Files.createDirectory(dir);
            }
            Path file = dir.resolve("f" + f);
            ByteBuffer data = ByteBuffer.wrap(random, 0, (d * f * 37) % 20_000 + 100);
            data.putInt(0, i);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (data.hasRemaining()) {
                    ch.write(data);
                }
            }
            Files.setPosixFilePermissions(file, mode);
            Files.setLastModifiedTime(file, mtime);
            tick(unpack, i + 1, files);
        }
        syncFilesystem();
        out.add(new Result("unpack-tree", unpack, "files/s", files, seconds(t0)));
        String remove = "remove the tree (rm -r)";
        t0 = System.nanoTime();
        int removed = 0;
        for (int d = 1; d <= dirs; d++) {
            Path dir = root.resolve("d" + d);
            for (int f = 1; f <= TREE_FILES_PER_DIR && removed < files; f++, removed++) {
                Files.delete(dir.resolve("f" + f));
            }
            Files.delete(dir);
            tick(remove, removed, files);
        }
        Files.delete(root);
        out.add(new Result("remove-tree", remove, "files/s", files, seconds(t0)));
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static String mib(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        return bytes % CHUNK == 0 ? (bytes / CHUNK) + " MiB" : String.format(java.util.Locale.ROOT, "%.2f MiB", bytes / (double) CHUNK);
    }
}
