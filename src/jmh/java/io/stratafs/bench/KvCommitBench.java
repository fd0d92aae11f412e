package io.stratafs.bench;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under every namespace change: one {@code Kv.write} holding a single 8-byte put. With group
 * commit that is a write-ahead append (write(2), no flush) and a publish to the pending group; LMDB
 * commits on its committer thread once a second. {@link #localPut} goes to a table outside the
 * journal; {@link #journaledPut} goes to a namespace table, so the write also appends a journal record,
 * as every VFS change does; {@link #journaledPutAndSync} adds {@code Kv.sync} (what an fsync costs:
 * one fdatasync of the write-ahead file).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class KvCommitBench {
    private static final byte[] LOCAL_KEY = "bench.local".getBytes(StandardCharsets.UTF_8);
    private static final byte[] COUNTER_KEY = "bench.counter".getBytes(StandardCharsets.UTF_8);

    private Path dir;
    private LmdbKv kv;
    private long n;

    @Setup
    public void open() throws IOException {
        dir = Files.createTempDirectory("stratafs-jmh-kv-");
        kv = new LmdbKv(dir, 2L << 30);
    }

    @TearDown
    public void close() {
        try {
            kv.close();
        } finally {
            BenchVolume.deleteTree(dir);
        }
    }

    @Benchmark
    public void localPut() {
        byte[] value = Bytes.longKey(++n);
        kv.writeVoid(txn -> txn.put(Table.LOCAL, LOCAL_KEY, value));
    }

    @Benchmark
    public void journaledPutAndSync() {
        byte[] value = Bytes.longKey(++n);
        kv.writeVoid(txn -> txn.put(Table.COUNTER, COUNTER_KEY, value));
        kv.sync();
    }

    @Benchmark
    public void journaledPut() {
        byte[] value = Bytes.longKey(++n);
        kv.writeVoid(txn -> txn.put(Table.COUNTER, COUNTER_KEY, value));
    }
}
