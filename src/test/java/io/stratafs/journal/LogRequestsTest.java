package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.store.MeasuredStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.sync.Envelope;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What publishing and polling cost in requests, counted by MeasuredStore: the figures PollingCost assumes. */
class LogRequestsTest {
    final MemoryStore memory = new MemoryStore();
    final VolumeMetrics metrics = new VolumeMetrics();
    final MeasuredStore store = new MeasuredStore(memory, metrics);
    final List<Envelope> log = new RandomEnvelopes(8).run("A", 1, 40);
    private Map<String, Long> seen = new TreeMap<>();

    /** Requests since the last call, by kind (get, create, put, list). */
    Map<String, Long> requests() {
        Map<String, Long> now = new TreeMap<>();
        metrics.storeRequests().forEach((r, h) -> now.merge(r.op(), h.count(), Long::sum));
        Map<String, Long> since = new TreeMap<>();
        now.forEach((op, n) -> {
            long d = n - seen.getOrDefault(op, 0L);
            if (d > 0) {
                since.put(op, d);
            }
        });
        seen = now;
        return since;
    }

    @Test
    void aBatchCostsOneGetAndTwoPutsOnceRecovered() throws Exception {
        LogPublisher p = new LogPublisher(store, "A", () -> 0);
        p.recover();
        assertEquals(Map.of("get", 1L, "list", 1L), requests(), "recovery of an empty log: head, then a listing");
        p = new LogPublisher(store, "A", () -> 0);
        p.recover();
        requests();
        p.publish(log.subList(0, 5));
        p.publish(log.subList(5, 6));
        assertEquals(Map.of("get", 2L, "create", 2L, "put", 2L), requests());
    }

    @Test
    void anIdlePollIsOneGetAndABusyPollTwoWithoutAList() throws Exception {
        LogPublisher p = new LogPublisher(memory, "A", () -> 0);
        p.publish(log.subList(0, 3));
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        reader.read(3);
        assertEquals(Map.of("get", 1L), requests(), "nothing new");
        reader.read(3);
        assertEquals(Map.of("get", 1L), requests(), "still nothing new");
        long cursor = 3;
        for (int end = 4; end <= 10; end++) {
            p.publish(log.subList((int) cursor, end));
            List<Envelope> got = new PeerLogReader(store, "A", 100).read(cursor).envelopes();
            cursor = got.get(got.size() - 1).seq();
        }
        assertEquals(10, cursor);
        assertEquals(Map.of("get", 14L), requests(), "per new segment: the head, then the segment it names");
    }

    @Test
    void severalNewSegmentsCostOneListOfOnlyTheNewKeys() throws Exception {
        LogPublisher p = new LogPublisher(memory, "A", () -> 0);
        p.publish(log.subList(0, 3));
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        reader.read(0);
        requests();
        p.publish(log.subList(3, 5));
        p.publish(log.subList(5, 9));
        p.publish(log.subList(9, 10));
        assertEquals(7, reader.read(3).envelopes().size());
        assertEquals(Map.of("get", 4L, "list", 1L), requests());
    }

    @Test
    void withoutAHeadEveryPollLists() throws Exception {
        LogPublisher p = new LogPublisher(memory, "A", () -> 0);
        p.publish(log.subList(0, 3));
        p.publish(log.subList(3, 4));
        memory.delete(ObjectKeys.siteHead("A"));
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        assertEquals(4, reader.read(0).envelopes().size());
        assertEquals(Map.of("get", 3L, "list", 1L), requests(), "the missing head, one listing, two segments");
        reader.read(4);
        assertEquals(Map.of("get", 1L, "list", 1L), requests());
    }

    @Test
    void aColdStartInsideASegmentListsTheWholePrefixOnce() throws Exception {
        LogPublisher p = new LogPublisher(memory, "A", () -> 0);
        p.publish(log.subList(0, 5));
        p.publish(log.subList(5, 6));
        assertEquals(3, new PeerLogReader(store, "A", 100).read(3).envelopes().size());
        assertEquals(Map.of("get", 3L, "list", 2L), requests(), "head, a listing after 4, the whole prefix, two segments");
        assertEquals(1, new PeerLogReader(store, "A", 100).read(5).envelopes().size());
        assertEquals(Map.of("get", 2L), requests(), "the head names the very next segment");
    }
}
