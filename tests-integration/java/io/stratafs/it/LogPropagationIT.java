package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.stratafs.journal.LogPublisher;
import io.stratafs.journal.PeerLogReader;
import io.stratafs.journal.PollSchedule;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.store.MeasuredStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.s3.S3Location;
import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.store.s3.S3Store;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long a change takes through storage alone, from the moment a site publishes it to the moment
 * a peer polling that site's S3 bucket on the default {@link PollSchedule} holds it (no direct
 * nudge; applying is not included). Changes come in bursts with pauses, so the schedule backs off
 * and has to catch up. Both sides are started (connections open, the publisher recovered) before
 * the first change. Prints p50, p99 and the requests the peer made; asserts only that every change
 * arrived, in order.
 */
class LogPropagationIT {
    private static final int CHANGES = 40;

    @TempDir
    Path dir;

    @Test
    void changesReachAPeerPollingTheDefaultScheduleThroughS3() throws Exception {
        VolumeMetrics peerRequests = new VolumeMetrics();
        try (S3ProxyServer server = S3ProxyServer.start(dir)) {
            server.createBucket("site-a");
            try (S3Store siteA = new S3Store(S3Location.parse("s3://site-a"), server.options().build());
                 MeasuredStore peerView = new MeasuredStore(new S3Store(S3Location.parse("s3://site-a"), server.options().build()),
                         peerRequests)) {
                long[] madeAt = new long[CHANGES + 1];
                long[] seenAt = new long[CHANGES + 1];
                AtomicReference<Throwable> pollerFailure = new AtomicReference<>();
                LogPublisher publisher = new LogPublisher(siteA, "A", System::currentTimeMillis);
                // a running site found its log's end and opened its connections long before the change
                publisher.recover();
                Thread poller = new Thread(() -> poll(new PeerLogReader(peerView, "A", 64), seenAt, pollerFailure), "poller");
                poller.start();
                try {
                    publish(publisher, madeAt);
                    poller.join(TimeUnit.SECONDS.toMillis(30));
                } finally {
                    poller.interrupt();
                    poller.join();
                }
                assertNull(pollerFailure.get());
                long[] delays = new long[CHANGES];
                int slowest = 1;
                for (int i = 1; i <= CHANGES; i++) {
                    delays[i - 1] = TimeUnit.NANOSECONDS.toMillis(seenAt[i] - madeAt[i]);
                    slowest = delays[i - 1] > delays[slowest - 1] ? i : slowest;
                }
                Map<String, Long> requests = new TreeMap<>();
                peerRequests.storeRequests().forEach((r, h) -> requests.merge(r.op(), h.count(), Long::sum));
                System.out.printf("propagation through S3 (publish + poll + fetch), %d changes: p50 %d ms, p99 %d ms,"
                        + " max %d ms (change %d); the peer's requests: %s%n", CHANGES, sorted(delays, CHANGES / 2),
                        sorted(delays, (int) Math.ceil(CHANGES * 0.99) - 1), delays[slowest - 1], slowest, requests);
            }
        }
    }

    private static long sorted(long[] values, int rank) {
        long[] copy = values.clone();
        Arrays.sort(copy);
        return copy[rank];
    }

    /** Bursts of changes a few hundred milliseconds apart, with pauses of 6 s every tenth change. */
    private static void publish(LogPublisher publisher, long[] madeAt) throws Exception {
        Random random = new Random(8);
        for (int i = 1; i <= CHANGES; i++) {
            Thread.sleep(i % 10 == 0 ? 6_000 : random.nextInt(600));
            madeAt[i] = System.nanoTime();
            OpId id = new OpId(i, "A");
            Op op = new Op.SetAttr(id, new OpId(1, "B"), Op.SetAttr.MODE, 0644 + i, 0, 0, 0, 0);
            assertEquals(ObjectKeys.opLogSegment("A", i, i), publisher.publish(List.of(new Envelope("A", i, Map.of(), op))));
        }
    }

    /** A peer's poll loop: waits as the schedule says (the behaviour measured), reads, notes when each change arrived. */
    private static void poll(PeerLogReader reader, long[] seenAt, AtomicReference<Throwable> failure) {
        PollSchedule schedule = new PollSchedule(System::currentTimeMillis);
        long cursor = 0;
        try {
            while (cursor < CHANGES) {
                Thread.sleep(schedule.delayMillis());
                List<Envelope> got = reader.read(cursor).envelopes();
                long now = System.nanoTime();
                for (Envelope e : got) {
                    assertEquals(cursor + 1, e.seq());
                    seenAt[(int) e.seq()] = now;
                    cursor = e.seq();
                }
                schedule.polled(!got.isEmpty());
            }
        } catch (InterruptedException e) {
            failure.set(new AssertionError("the peer had " + cursor + " of " + CHANGES + " changes when the wait ended"));
        } catch (Throwable e) {
            failure.set(e);
        }
    }
}
