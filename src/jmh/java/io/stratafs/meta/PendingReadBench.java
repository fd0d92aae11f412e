package io.stratafs.meta;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A point read while changes wait in the pending group, as every FUSE lookup and getattr does between
 * two group commits: {@code pending} inode records sit in the group (written in writes of 10, as a
 * create writes a few keys), {@code pending} more are committed to LMDB. {@link #getPending} reads one
 * of the group's, {@link #getCommitted} one that only LMDB holds (it asks every layer first), and
 * {@link #readTxn} an empty read (what opening and ending a read transaction costs). The group is
 * given an hour, so the committer leaves it alone while the benchmark runs; it lives in this package
 * for that constructor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class PendingReadBench {
    private static final int SAMPLES = 1024;

    @Param({"0", "20000"})
    public int pending;

    private Path dir;
    private LmdbKv kv;
    private byte[][] inGroup;
    private byte[][] inLmdb;
    private int next;

    @Setup
    public void open() throws IOException {
        dir = Files.createTempDirectory("stratafs-jmh-pending-");
        kv = new LmdbKv(dir, 2L << 30, LmdbKv.DEFAULT_GROUP_BYTES, TimeUnit.HOURS.toMillis(1), DiskSeam.NONE);
        byte[] record = new byte[61];
        int committed = Math.max(pending, SAMPLES);
        for (long i = 0; i < committed; i += 10) {
            long first = i;
            kv.writeVoid(txn -> {
                for (long k = first; k < first + 10; k++) {
                    txn.put(Table.INODE, Bytes.longKey(k), record);
                }
            });
        }
        kv.commitPending();
        for (long i = 0; i < pending; i += 10) {
            long first = committed + i;
            kv.writeVoid(txn -> {
                for (long k = first; k < first + 10; k++) {
                    txn.put(Table.INODE, Bytes.longKey(k), record);
                }
            });
        }
        inGroup = new byte[SAMPLES][];
        inLmdb = new byte[SAMPLES][];
        java.util.Random random = new java.util.Random(9);
        for (int i = 0; i < SAMPLES; i++) {
            inLmdb[i] = Bytes.longKey(random.nextInt(committed));
            inGroup[i] = pending == 0 ? inLmdb[i] : Bytes.longKey(committed + random.nextInt(pending));
        }
    }

    @TearDown
    public void close() throws IOException {
        try {
            kv.close();
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    @Benchmark
    public byte[] getPending() {
        byte[] key = inGroup[next++ & (SAMPLES - 1)];
        return kv.read(txn -> txn.get(Table.INODE, key));
    }

    @Benchmark
    public byte[] getCommitted() {
        byte[] key = inLmdb[next++ & (SAMPLES - 1)];
        return kv.read(txn -> txn.get(Table.INODE, key));
    }

    @Benchmark
    public Object readTxn() {
        return kv.read(txn -> txn);
    }
}
