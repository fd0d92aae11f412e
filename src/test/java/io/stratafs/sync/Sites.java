package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.stratafs.meta.BlockRef;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Test replicas with settable wall clocks, and delivery of their logs in a chosen order. */
final class Sites {
    static final int FILE = 0100644;
    static final int DIR = 040755;

    private final Map<String, AtomicLong> clocks = new HashMap<>();
    private final Map<String, Replica> replicas = new HashMap<>();

    /** A replica whose wall clock starts at {@code time} (ISO-8601 UTC). */
    Replica site(String name, String time) {
        AtomicLong clock = new AtomicLong(Instant.parse(time).toEpochMilli());
        clocks.put(name, clock);
        Replica r = new Replica(name, clock::get, new MemoryReplicaStore());
        replicas.put(name, r);
        return r;
    }

    /** Sets a site's wall clock. */
    void at(String name, String time) {
        clocks.get(name).set(Instant.parse(time).toEpochMilli());
    }

    /** Gives every replica every other replica's log, until nothing more is new. */
    static void exchange(Replica... rs) {
        for (Replica to : rs) {
            List<List<Envelope>> logs = new ArrayList<>();
            for (Replica from : rs) {
                if (from != to) {
                    logs.add(from.log(0));
                }
            }
            deliver(to, logs);
        }
    }

    /**
     * Applies the envelopes to {@code to}, each time the first one in the given order whose causes are
     * applied: so {@code deliver(x, a.log(0), b.log(0))} applies a's concurrent operations before b's.
     */
    @SafeVarargs
    static void deliver(Replica to, List<Envelope>... logs) {
        deliver(to, List.of(logs));
    }

    static void deliver(Replica to, List<List<Envelope>> logs) {
        List<Envelope> pending = new ArrayList<>();
        logs.forEach(pending::addAll);
        while (!pending.isEmpty()) {
            boolean progress = false;
            for (int i = 0; i < pending.size(); i++) {
                Envelope e = pending.get(i);
                long applied = to.cursors().getOrDefault(e.site(), 0L);
                if (e.seq() <= applied || to.ready(e)) {
                    to.apply(e);
                    pending.remove(i);
                    progress = true;
                    break;
                }
            }
            if (!progress) {
                fail("envelopes never became ready at " + to.site() + ": " + pending);
            }
        }
    }

    /**
     * Delivers the replicas' logs to fresh observers in every order of the replicas (all of them
     * for two or three), exchanges among the replicas, asserts that all present one tree, returns it.
     */
    Tree converge(Replica... rs) {
        List<Tree> trees = new ArrayList<>();
        int n = 0;
        for (List<Replica> order : permutations(List.of(rs))) {
            Replica observer = site("observer" + n++, "2026-11-30T00:00:00Z");
            List<List<Envelope>> logs = new ArrayList<>();
            order.forEach(r -> logs.add(r.log(0)));
            deliver(observer, logs);
            trees.add(observer.tree());
        }
        exchange(rs);
        for (Replica r : rs) {
            trees.add(r.tree());
        }
        for (Tree t : trees) {
            assertEquals(trees.get(0), t, "replicas and observers disagree");
            assertEquals(trees.get(0).digest(), t.digest());
        }
        return trees.get(0);
    }

    private static List<List<Replica>> permutations(List<Replica> rs) {
        if (rs.size() <= 1) {
            return List.of(rs);
        }
        List<List<Replica>> out = new ArrayList<>();
        for (Replica first : rs) {
            List<Replica> rest = new ArrayList<>(rs);
            rest.remove(first);
            for (List<Replica> p : permutations(rest)) {
                List<Replica> l = new ArrayList<>();
                l.add(first);
                l.addAll(p);
                out.add(l);
            }
        }
        return out;
    }

    /** A one-block manifest whose block is the SHA-256 of {@code text}. */
    static Manifest content(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
            return new Manifest(bytes.length, List.of(new Manifest.Block(0, new BlockRef(hash, bytes.length))));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
