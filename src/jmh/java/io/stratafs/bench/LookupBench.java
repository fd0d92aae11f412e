package io.stratafs.bench;

import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Namespace;
import io.stratafs.vfs.FsException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
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
 * Path lookup and getattr, what every FUSE call of the path API pays before it does anything: a
 * 4-deep path ({@code /d3/d7/d1/f5}) resolved in a tree of 11,110 entries (10 × 10 × 10
 * directories, 10 empty files in each of the deepest). Each call takes the next of 1,024 files
 * picked at random, so the walk does not keep to one LMDB leaf page.
 *
 * <p>The tree is written straight through {@link Namespace} in ten transactions, laid out exactly as
 * {@code Vfs.mkdir} and {@code Vfs.mknod} lay it out: 11,110 separate commits, each with an
 * fdatasync, would take longer than the measurement. {@link #open} checks the layout through the VFS.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class LookupBench {
    private static final int FANOUT = 10;
    private static final int SAMPLES = 1024;

    private BenchVolume volume;
    private String[] paths;
    private int next;

    @Setup
    public void open() throws FsException {
        volume = new BenchVolume(128L << 20, false);
        long now = System.currentTimeMillis() * 1_000_000L;
        for (int a = 0; a < FANOUT; a++) {
            String top = "d" + a;
            volume.kv.writeVoid(txn -> addSubtree(txn, Namespace.ROOT, top, now));
        }
        checkLayout();
        List<String> files = new ArrayList<>();
        for (int i = 0; i < FANOUT * FANOUT * FANOUT * FANOUT; i++) {
            files.add("/d" + i / 1000 + "/d" + i / 100 % 10 + "/d" + i / 10 % 10 + "/f" + i % 10);
        }
        Collections.shuffle(files, new Random(9));
        paths = files.subList(0, SAMPLES).toArray(new String[0]);
    }

    /** A top directory with its 10 × 10 subdirectories and their 10 files each (1,111 entries). */
    private static void addSubtree(KvWriteTxn txn, long parent, String name, long now) {
        long top = addChild(txn, parent, name, Inode.S_IFDIR | 0755, now);
        for (int b = 0; b < FANOUT; b++) {
            long mid = addChild(txn, top, "d" + b, Inode.S_IFDIR | 0755, now);
            for (int c = 0; c < FANOUT; c++) {
                long leaf = addChild(txn, mid, "d" + c, Inode.S_IFDIR | 0755, now);
                for (int f = 0; f < FANOUT; f++) {
                    addChild(txn, leaf, "f" + f, Inode.S_IFREG | 0644, now);
                }
            }
        }
    }

    /** What Vfs.addChild writes: the child's inode, its name, and the parent's times and link count. */
    private static long addChild(KvWriteTxn txn, long parent, String name, int mode, long now) {
        boolean dir = (mode & Inode.S_IFMT) == Inode.S_IFDIR;
        long ino = Namespace.allocateIno(txn);
        Namespace.putInode(txn, new Inode(ino, mode, BenchVolume.USER.uid(), BenchVolume.USER.gid(), dir ? 2 : 1, 0,
                now, now, now, 0));
        Namespace.link(txn, parent, name, ino, mode);
        Inode p = Namespace.inode(txn, parent);
        Inode touched = p.touched(now);
        Namespace.putInode(txn, dir ? touched.withNlink(p.nlink() + 1, now) : touched);
        return ino;
    }

    private void checkLayout() throws FsException {
        Kv kv = volume.kv;
        int entries = kv.read(txn -> Namespace.list(txn, Namespace.ROOT, null, Integer.MAX_VALUE).size());
        Inode leaf = volume.vfs.getattr("/d9/d9/d9");
        Inode file = volume.vfs.getattr("/d9/d9/d9/f9");
        if (entries != FANOUT || volume.vfs.getattr("/").nlink() != FANOUT + 2 || leaf.nlink() != 2
                || volume.vfs.readdir("/d9/d9/d9").size() != FANOUT || !file.isRegular() || file.nlink() != 1) {
            throw new IllegalStateException("the benchmark's tree is not laid out as the VFS lays out one (see LookupBench.addChild)");
        }
    }

    @TearDown
    public void close() {
        volume.close();
    }

    private String nextPath() {
        return paths[next++ & (SAMPLES - 1)];
    }

    @Benchmark
    public long resolve() throws FsException {
        return volume.vfs.resolve(nextPath());
    }

    @Benchmark
    public Inode getattr() throws FsException {
        return volume.vfs.getattr(nextPath());
    }
}
