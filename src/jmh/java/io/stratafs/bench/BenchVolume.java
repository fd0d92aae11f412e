package io.stratafs.bench;

import io.stratafs.cache.BlockCache;
import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.LmdbKv;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.mount.SiteBridge;
import io.stratafs.store.MemoryStore;
import io.stratafs.sync.Replica;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.Clock;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A volume wired as {@code MountedVolume} wires it (LMDB sized as the mount sizes it for the cache,
 * the default 4 MiB block, the system clock), in a fresh temporary directory that {@link #close}
 * deletes. The storage target is a {@link MemoryStore}: the benchmarks measure the local paths, and
 * no uploader runs. With {@code siteLog} every namespace change is also logged to the site's
 * replica through a {@link SiteBridge}, as on every mount since issue 8.
 *
 * <p>The directory is made under {@code java.io.tmpdir}: put it on the disk under test with
 * {@code -jvmArgsAppend -Djava.io.tmpdir=DIR}, since an LMDB commit costs what that disk's
 * fdatasync costs. (The benchmarks' own JVM flags, lmdbjava's {@code --add-opens}, are in
 * {@code jvmArgsPrepend}, so that appending leaves them in place.)
 */
final class BenchVolume implements AutoCloseable {
    static final Caller USER = new Caller(1000, 1000);
    /** open(2) flags of a file written from scratch: O_WRONLY | O_CREAT | O_TRUNC. */
    static final int CREATE_TRUNCATE = 01 | 0100 | 01000;
    static final int BLOCK_SIZE = 4 << 20;
    private static final long CACHE_SIZE = 256L << 20;

    final Path dir;
    final LmdbKv kv;
    final MemoryStore target = new MemoryStore();
    final VolumeMetrics metrics = new VolumeMetrics();
    final BlockCache cache;
    final Vfs vfs;
    private final SiteBridge bridge;

    /** {@code ramBytes} bounds the RAM block tier (0: every read goes to LMDB). */
    BenchVolume(long ramBytes, boolean siteLog) {
        try {
            dir = Files.createTempDirectory("stratafs-jmh-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the benchmark's LMDB (set java.io.tmpdir)", e);
        }
        kv = new LmdbKv(dir.resolve("cache"), CACHE_SIZE + CACHE_SIZE / 4 + (2L << 30));
        cache = new BlockCache(kv, List.of(target), new int[] {0}, CACHE_SIZE, ramBytes, 4, metrics);
        vfs = new Vfs(kv, cache, BLOCK_SIZE, Clock.SYSTEM, () -> new FsStats(1L << 40, 1L << 39, 0), metrics);
        vfs.initRoot(USER);
        if (siteLog) {
            LmdbReplicaStore store = new LmdbReplicaStore(kv, new PeerCursors());
            Replica replica = new Replica("bench", System::currentTimeMillis, store);
            bridge = new SiteBridge(kv, store, replica, vfs, cache);
            vfs.logTo(bridge);
        } else {
            bridge = null;
        }
    }

    @Override
    public void close() {
        try {
            if (bridge != null) {
                bridge.close();
            }
            vfs.close();
            cache.close();
            kv.close();
        } finally {
            deleteTree(dir);
        }
    }

    static void deleteTree(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the benchmark's temporary directory " + root + " (delete it by hand)", e);
        }
    }
}
