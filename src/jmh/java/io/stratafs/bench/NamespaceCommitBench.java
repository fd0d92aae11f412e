package io.stratafs.bench;

import io.stratafs.vfs.FsException;
import java.util.concurrent.TimeUnit;
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
 * Small namespace changes through the VFS, each its own LMDB commit today: what {@code mkdir},
 * {@code tar -x} and {@code rm} pay per call. {@code siteLog=true} wires the site's log as the mount
 * does ({@code vfs.logTo(new SiteBridge(...))}), so every change also becomes a logical operation in
 * the same transaction; the difference between the two settings is the sites bridge's cost.
 *
 * <p>{@link #mkdir} makes a new name each call, so the root grows as under {@code tar -x};
 * {@link #mkdirRmdir} and {@link #createUnlink} also use a new name each call and remove it again
 * (two and three VFS calls: the figure is for the pair or the triple). {@link #mkdirRmdirSameName}
 * reuses one name, as lock files and editors' temporaries do: with the site log on, its cost grows
 * with the number of pairs run before (measured 2026-12-01: 3.7 ms of CPU per pair over the first
 * 250 pairs, 8.6 ms over pairs 1,250 to 1,500; flat at 0.6 ms with new names), because the
 * replica keeps every removed edge of a name and each change to that name reads them all
 * ({@code LmdbReplicaStore.childrenNamed}). Its figure therefore depends on the run's length until
 * that is fixed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class NamespaceCommitBench {
    /** open(2) flags as the FUSE layer passes them (vfs.Handle keeps its constants to itself). */
    private static final int O_RDWR = 02;
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;

    @Param({"false", "true"})
    public boolean siteLog;

    private BenchVolume volume;
    private long n;

    @Setup
    public void open() {
        volume = new BenchVolume(128L << 20, siteLog);
    }

    @TearDown
    public void close() {
        volume.close();
    }

    @Benchmark
    public void mkdir() throws FsException {
        volume.vfs.mkdir("/d" + n++, 0755, BenchVolume.USER);
    }

    @Benchmark
    public void mkdirRmdir() throws FsException {
        String path = "/r" + n++;
        volume.vfs.mkdir(path, 0755, BenchVolume.USER);
        volume.vfs.rmdir(path);
    }

    @Benchmark
    public void mkdirRmdirSameName() throws FsException {
        volume.vfs.mkdir("/again", 0755, BenchVolume.USER);
        volume.vfs.rmdir("/again");
    }

    @Benchmark
    public void createUnlink() throws FsException {
        String path = "/f" + n++;
        long fh = volume.vfs.create(path, 0644, O_RDWR | O_CREAT | O_EXCL, BenchVolume.USER);
        volume.vfs.release(fh);
        volume.vfs.unlink(path);
    }
}
