package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.MeasuredStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.s3.S3Location;
import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.store.s3.S3Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block copier between a real S3 server (S3Proxy on 127.0.0.1) and local directories, with requests counted. */
class BlockCopierS3Test {
    @TempDir
    Path dir;
    S3ProxyServer server;
    final ExecutorService pool = Executors.newFixedThreadPool(4);
    final Random random = new Random(64);
    final List<ObjectStore> opened = new ArrayList<>();

    @BeforeEach
    void startServer() throws Exception {
        server = S3ProxyServer.start(dir.resolve("s3"));
        server.createBucket("peer");
    }

    @AfterEach
    void stop() throws Exception {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        opened.forEach(ObjectStore::close);
        server.close();
    }

    /** A store and the requests made to it. */
    record Measured(MeasuredStore store, VolumeMetrics metrics) {
        long requests(String op) {
            return metrics.storeRequest(op, store.describe()).count();
        }
    }

    Measured measured(ObjectStore inner) {
        opened.add(inner);
        VolumeMetrics metrics = new VolumeMetrics();
        return new Measured(new MeasuredStore(inner, metrics), metrics);
    }

    Measured s3(String prefix) throws StoreException {
        return measured(new S3Store(S3Location.parse("s3://peer/" + prefix), server.options().build()));
    }

    Measured local(String name) {
        return measured(new LocalDirStore(dir.resolve(name)));
    }

    BlockRef putBlock(ObjectStore store, byte[] data) throws StoreException {
        BlockRef ref = new BlockRef(Sha256.of(data), data.length);
        store.put(ObjectKeys.block(ref.hex()), data);
        return ref;
    }

    byte[] bytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    BlockCopier copier(ObjectStore target, long bytesPerSecond) {
        return BlockCopier.builder().targets(List.of(target)).executor(pool).parallelism(4)
                .bandwidth(BandwidthLimit.of(bytesPerSecond)).build();
    }

    static void assertHoldsAll(ObjectStore store, List<BlockRef> refs) throws StoreException {
        for (BlockRef r : refs) {
            assertArrayEquals(r.hash(), Sha256.of(store.get(ObjectKeys.block(r.hex()))), r.hex());
        }
    }

    @Test
    void blocksGoFromABucketIntoADirectoryAndBackWithOneRequestPerCheckAndCopy() throws Exception {
        Measured bucket = s3("site-a");
        Measured directory = local("site-b");
        List<BlockRef> wanted = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] data = bytes(1 + random.nextInt(64 << 10));
            wanted.add(putBlock(bucket.store(), data));
            if (i < 5) {
                putBlock(directory.store().inner(), data);
            }
        }

        BlockCopier.Summary in = copier(directory.store(), 0).copy(wanted, List.of(bucket.store()), o -> { });
        assertEquals(35, in.copied());
        assertEquals(5, in.present());
        assertEquals(40, directory.requests("exists"), "one check per wanted block");
        assertEquals(35, directory.requests("put"));
        assertEquals(35, bucket.requests("get"), "each missing block read once, nothing else");
        assertHoldsAll(directory.store().inner(), wanted);

        Measured back = s3("site-c");
        BlockCopier.Summary out = copier(back.store(), 0).copy(wanted, List.of(directory.store()), o -> { });
        assertEquals(40, out.copied());
        assertEquals(40, back.requests("exists"));
        assertEquals(40, back.requests("put"));
        assertHoldsAll(back.store().inner(), wanted);

        BlockCopier.Summary again = copier(back.store(), 0).copy(wanted, List.of(directory.store()), o -> { });
        assertEquals(40, again.present());
        assertEquals(80, back.requests("exists"));
        assertEquals(40, back.requests("put"), "a second run writes nothing");
        assertEquals(40, directory.requests("get"), "a second run reads nothing");
    }

    @Test
    void aBucketFanOutDirectoryWithManyWantedBlocksIsListedInOneRequest() throws Exception {
        Measured bucket = s3("target");
        Measured directory = local("source");
        List<BlockRef> wanted = new ArrayList<>();
        while (wanted.size() < BlockCopier.LIST_AT_LEAST + 4) {
            byte[] data = bytes(512);
            if (Sha256.of(data)[0] == 0) {
                wanted.add(putBlock(directory.store(), data));
                if (wanted.size() <= 10) {
                    putBlock(bucket.store(), data);
                }
            }
        }
        BlockCopier.Summary s = copier(bucket.store(), 0).copy(wanted, List.of(directory.store()), o -> { });
        assertEquals(10, s.present());
        assertEquals(wanted.size() - 10, s.copied());
        assertEquals(1, bucket.requests("list"));
        assertEquals(0, bucket.requests("exists"));
        assertHoldsAll(bucket.store().inner(), wanted);
    }

    /** A figure for the report, not an assertion: 64 MiB of 4 MiB blocks, unlimited and limited to 32 MiB/s. */
    @Test
    void copyingSixtyFourMiBPrintsTheRate() throws Exception {
        Measured bucket = s3("bench");
        Measured directory = local("bench-source");
        List<BlockRef> wanted = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            byte[] data = bytes(4 << 20);
            wanted.add(putBlock(bucket.store(), data));
            directory.store().put(ObjectKeys.block(wanted.get(i).hex()), data);
        }
        List<String> lines = new ArrayList<>();
        for (long limit : new long[] {0, 32L << 20}) {
            lines.add(timed("dir->dir", local("bench-dir-" + limit).store(), directory.store(), wanted, limit));
            lines.add(timed("S3->dir ", local("bench-s3-" + limit).store(), bucket.store(), wanted, limit));
        }
        lines.forEach(System.out::println);
    }

    private String timed(String what, ObjectStore target, ObjectStore source, List<BlockRef> wanted, long limit) throws Exception {
        long start = System.nanoTime();
        BlockCopier.Summary s = copier(target, limit).copy(wanted, List.of(source), o -> { });
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(wanted.size(), s.copied());
        assertHoldsAll(target, wanted);
        // the bucket lets one second of the rate through at once, so the limit's floor is (size - rate) / rate
        String floor = limit == 0 ? "" : String.format(Locale.ROOT, ", the limit allows no less than %.2f s",
                (double) (s.bytesCopied() - limit) / limit);
        return String.format(Locale.ROOT, "block copy %s 64 MiB, limit %s: %.1f MiB/s (%.2f s%s)",
                what, limit == 0 ? "none  " : (limit >> 20) + "M/s", s.bytesCopied() / 1048576.0 / seconds, seconds, floor);
    }
}
