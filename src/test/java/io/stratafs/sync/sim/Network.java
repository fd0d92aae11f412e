package io.stratafs.sync.sim;

import io.stratafs.sync.Envelope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The simulated network between sites: which links are cut, how far each site has read each peer's
 * published log, and per receiving site the envelopes in flight (read but not arrived, so arrivals
 * come in any order, late, sometimes twice, sometimes never) and those that arrived and wait until
 * the receiver can apply them (causal order: {@link Receiver#ready}).
 */
final class Network {
    /** The receiving side, as the network sees it. */
    interface Receiver {
        boolean ready(Envelope e);

        /** Whether e (or a later envelope of its site) was applied already. */
        boolean applied(Envelope e);

        void apply(Envelope e);
    }

    private final int sites;
    private final long[][] readUpTo;
    private final Set<Long> cut = new HashSet<>();
    private final List<List<Envelope>> inFlight = new ArrayList<>();
    private final List<List<Envelope>> arrived = new ArrayList<>();

    Network(int sites) {
        this.sites = sites;
        this.readUpTo = new long[sites][sites];
        for (int i = 0; i < sites; i++) {
            inFlight.add(new ArrayList<>());
            arrived.add(new ArrayList<>());
        }
    }

    boolean linked(int a, int b) {
        return a == b || !cut.contains(pair(a, b));
    }

    void cut(int a, int b) {
        if (a != b) {
            cut.add(pair(a, b));
        }
    }

    void isolate(int a) {
        for (int b = 0; b < sites; b++) {
            cut(a, b);
        }
    }

    void heal() {
        cut.clear();
    }

    private long pair(int a, int b) {
        return Math.min(a, b) * 16L + Math.max(a, b);
    }

    /**
     * Site {@code to} reads a batch of {@code from}'s published log, if the link is up: sometimes
     * from where it last read, sometimes again from its applied cursor (as a restarted daemon does),
     * which re-sends what it has and recovers anything lost. Some envelopes are sent twice.
     */
    int fetch(int to, int from, List<Envelope> published, long appliedCursor, Random r, boolean all) {
        if (to == from || !linked(to, from)) {
            return 0;
        }
        if (all || r.nextInt(4) == 0) {
            readUpTo[to][from] = Math.min(readUpTo[to][from], appliedCursor);
        }
        int start = (int) readUpTo[to][from];
        int end = all ? published.size() : Math.min(published.size(), start + 1 + r.nextInt(6));
        for (int i = start; i < end; i++) {
            Envelope e = published.get(i);
            inFlight.get(to).add(e);
            if (!all && r.nextInt(10) == 0) {
                inFlight.get(to).add(e);
            }
        }
        readUpTo[to][from] = Math.max(readUpTo[to][from], end);
        return end - start;
    }

    /** Up to {@code n} random envelopes in flight to {@code to} arrive; with {@code mayLose}, one in twenty is lost instead. */
    void arrive(int to, int n, Random r, boolean mayLose) {
        List<Envelope> f = inFlight.get(to);
        for (int i = 0; i < n && !f.isEmpty(); i++) {
            Envelope e = f.remove(r.nextInt(f.size()));
            if (!mayLose || r.nextInt(20) != 0) {
                arrived.get(to).add(e);
            }
        }
    }

    void arriveAll(int to, Random r) {
        arrive(to, inFlight.get(to).size(), r, false);
    }

    /**
     * Applies every arrived envelope that is ready, again and again until none is; duplicates are
     * dropped, the rest wait. Returns how many were applied.
     */
    int drain(int to, Receiver rcv) {
        List<Envelope> a = arrived.get(to);
        int applied = 0;
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < a.size(); ) {
                Envelope e = a.get(i);
                if (rcv.applied(e)) {
                    a.remove(i);
                } else if (rcv.ready(e)) {
                    rcv.apply(e);
                    a.remove(i);
                    applied++;
                    progress = true;
                } else {
                    i++;
                }
            }
        }
        return applied;
    }

    /** A restarted site forgets what was in flight to it and reads again from its cursors. */
    void restart(int site, Map<String, Long> cursors) {
        inFlight.get(site).clear();
        arrived.get(site).clear();
        for (int from = 0; from < sites; from++) {
            readUpTo[site][from] = cursors.getOrDefault(Schedule.siteName(from), 0L);
        }
    }

    int waiting(int to) {
        return inFlight.get(to).size() + arrived.get(to).size();
    }
}
