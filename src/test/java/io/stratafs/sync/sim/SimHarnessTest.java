package io.stratafs.sync.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import io.stratafs.sync.Tree;
import io.stratafs.sync.VersionVector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The simulation's own parts, without the engine: shrinker, network, schedule encoding, oracle. */
class SimHarnessTest {

    @Test
    void shrinkerFindsTheTwoStepsOfAPlantedBug() {
        // the planted bug: a crash of site C followed, at any distance, by a delivery to site B
        Schedule big = null;
        for (long seed = 1; big == null; seed++) {
            Schedule s = Schedule.generate(seed, 200);
            if (s.sites() == 4 && planted(s)) {
                big = s;
            }
        }
        int[] runs = {0};
        Shrinker shrinker = new Shrinker(s -> {
            runs[0]++;
            return planted(s);
        }, 5000);
        Schedule small = shrinker.shrink(big);
        assertEquals(3, small.sites(), small.encode());
        assertEquals(2, small.steps().size(), small.encode());
        assertEquals(Schedule.Kind.CRASH, small.steps().get(0).kind());
        assertEquals(2, small.steps().get(0).site());
        assertEquals(Schedule.Kind.DELIVER, small.steps().get(1).kind());
        assertEquals(1, small.steps().get(1).site());
        assertTrue(runs[0] < 5000, "shrinking took " + runs[0] + " runs");
    }

    private static boolean planted(Schedule s) {
        boolean crashed = false;
        for (Schedule.Step st : s.steps()) {
            crashed |= st.kind() == Schedule.Kind.CRASH && st.site() == 2;
            if (crashed && st.kind() == Schedule.Kind.DELIVER && st.site() == 1) {
                return true;
            }
        }
        return false;
    }

    @Test
    void shrinkerStopsAtItsBudget() {
        int[] runs = {0};
        Shrinker shrinker = new Shrinker(s -> {
            runs[0]++;
            return false;
        }, 7);
        shrinker.shrink(Schedule.generate(3, 100));
        assertEquals(7, runs[0]);
        assertEquals(7, shrinker.tries());
    }

    /** A fake replica that only keeps cursors, and fails on an envelope out of causal order or applied twice. */
    private static final class FakeSite implements Network.Receiver {
        final String name;
        final Map<String, Long> cursors = new TreeMap<>();
        final List<Envelope> log = new ArrayList<>();
        final Set<String> seen = new HashSet<>();

        FakeSite(String name) {
            this.name = name;
        }

        Envelope author(long stamp) {
            long seq = log.size() + 1;
            Envelope e = new Envelope(name, seq, cursors, new Op.SetXattr(new OpId(stamp, name), OpId.ROOT, "user.x", null));
            log.add(e);
            cursors.put(name, seq);
            return e;
        }

        @Override
        public boolean ready(Envelope e) {
            return Simulation.causallyReady(cursors, e);
        }

        @Override
        public boolean applied(Envelope e) {
            return cursors.getOrDefault(e.site(), 0L) >= e.seq();
        }

        @Override
        public void apply(Envelope e) {
            assertTrue(ready(e), name + " was handed " + e.site() + "#" + e.seq() + " before its causes: " + cursors);
            assertTrue(seen.add(e.site() + "#" + e.seq()), name + " was handed " + e.site() + "#" + e.seq() + " twice");
            cursors.put(e.site(), e.seq());
        }
    }

    @Test
    void networkHandsEveryEnvelopeOnceAndInCausalOrder() {
        for (long seed = 0; seed < 50; seed++) {
            Random r = new Random(seed);
            List<FakeSite> sites = List.of(new FakeSite("A"), new FakeSite("B"), new FakeSite("C"));
            Network net = new Network(3);
            long stamp = 1;
            for (int i = 0; i < 400; i++) {
                int a = r.nextInt(3);
                int b = r.nextInt(3);
                FakeSite s = sites.get(a);
                switch (r.nextInt(7)) {
                    case 0, 1 -> s.author(stamp++);
                    case 2 -> net.fetch(a, b, sites.get(b).log, s.cursors.getOrDefault(sites.get(b).name, 0L), r, false);
                    case 3, 4 -> {
                        net.arrive(a, 1 + r.nextInt(4), r, true);
                        net.drain(a, s);
                    }
                    case 5 -> net.cut(a, b);
                    default -> net.heal();
                }
            }
            net.heal();
            for (int round = 0; round < 3; round++) {
                for (int to = 0; to < 3; to++) {
                    for (int from = 0; from < 3; from++) {
                        FakeSite t = sites.get(to);
                        net.fetch(to, from, sites.get(from).log, t.cursors.getOrDefault(sites.get(from).name, 0L), r, true);
                    }
                    net.arriveAll(to, r);
                    net.drain(to, sites.get(to));
                }
            }
            for (FakeSite to : sites) {
                for (FakeSite from : sites) {
                    assertEquals(from.log.size(), to.cursors.getOrDefault(from.name, 0L),
                            "seed " + seed + ": " + to.name + " applied of " + from.name);
                }
            }
        }
    }

    @Test
    void aCutLinkCarriesNothing() {
        FakeSite a = new FakeSite("A");
        FakeSite b = new FakeSite("B");
        a.author(1);
        Network net = new Network(2);
        net.isolate(1);
        assertFalse(net.linked(0, 1));
        assertEquals(0, net.fetch(1, 0, a.log, 0, new Random(1), true));
        net.heal();
        assertEquals(1, net.fetch(1, 0, a.log, 0, new Random(1), true));
        net.arriveAll(1, new Random(1));
        assertEquals(1, net.drain(1, b));
    }

    @Test
    void scheduleEncodingRoundTrips() {
        for (long seed = 0; seed < 20; seed++) {
            Schedule s = Schedule.generate(seed, 80);
            assertEquals(s, Schedule.decode(s.encode()));
        }
    }

    @Test
    void aBadScheduleIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedule.decode("3/0,0/O:0:0:1"));
        assertTrue(e.getMessage().contains("one clock skew each"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedule.decode("2/0,0/Q:0:0:1"));
        assertTrue(e.getMessage().contains("no step kind 'Q'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedule.decode("2/0,0/O:5:0:1"));
        assertTrue(e.getMessage().contains("beyond the 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedule.decode("x/0/"));
        assertTrue(e.getMessage().contains("bad number"), e.getMessage());
    }

    @Test
    void withoutSiteRenumbersTheLaterSites() {
        Schedule s = Schedule.decode("3/1,2,3/O:0:0:1,F:2:1:2,O:1:0:3,X:2:0:4");
        Schedule t = s.withoutSite(1);
        assertEquals("2/1,3/O:0:0:1,X:1:0:4", t.encode());
    }

    @Test
    void oracleKeepsConcurrentVersionsAndWhatARemoverMissed() {
        OpId file = new OpId(10, "A");
        OpId w1 = new OpId(20, "A");
        OpId w2 = new OpId(21, "B");
        OpId w3 = new OpId(30, "A");
        VersionVector a1 = VersionVector.EMPTY.increment("A");
        List<Envelope> log = new ArrayList<>();
        log.add(new Envelope("A", 1, Map.of(), new Op.Create(file, OpId.ROOT, "f", 0100644, 0, 0, 0, null)));
        log.add(new Envelope("A", 2, Map.of(), new Op.Write(w1, file, a1.increment("A"), Manifest.EMPTY, 1)));
        log.add(new Envelope("B", 1, Map.of("A", 1L), new Op.Write(w2, file, a1.increment("B"), Manifest.EMPTY, 1)));
        log.add(new Envelope("A", 3, Map.of(), new Op.Write(w3, file, a1.increment("A").increment("A"), Manifest.EMPTY, 1)));
        Oracle o = new Oracle(log);
        List<OpId> ids = o.undominated(file).stream().map(Oracle.Version::id).toList();
        assertEquals(List.of(w2, w3), ids);
        assertTrue(o.certainlyLive().contains(file));

        Op.Seen sawA = new Op.Seen(file, a1.increment("A").increment("A"));
        log.add(new Envelope("A", 4, Map.of(), new Op.Remove(new OpId(40, "A"), file, sawA)));
        assertTrue(new Oracle(log).certainlyLive().contains(file), "B's write was not seen by the remover");

        Op.Seen sawAll = new Op.Seen(file, a1.increment("A").increment("A").increment("B"));
        log.set(4, new Envelope("A", 4, Map.of(), new Op.Remove(new OpId(40, "A"), file, sawAll)));
        assertFalse(new Oracle(log).certainlyLive().contains(file), "the remover saw every version");
    }

    private static Tree.Entry dir(OpId node, int nlink) {
        return new Tree.Entry(040755, 0, 0, 0, 0, 0, nlink, 0, null, null, new TreeMap<>(), node, null, false);
    }

    private static Tree.Entry file(OpId node, OpId version, int nlink, boolean copy) {
        return new Tree.Entry(0100644, 0, 0, 0, 0, 0, nlink, 0, Manifest.EMPTY, null, new TreeMap<>(), node, version, copy);
    }

    private static String check(Runnable r) {
        try {
            r.run();
            return "passed";
        } catch (SimFailure f) {
            return f.check;
        }
    }

    @Test
    void checksNameWhatIsWrongWithATree() {
        OpId d = new OpId(1, "A");
        OpId f = new OpId(2, "A");
        Map<String, Tree.Entry> ok = new TreeMap<>(Map.of("/", dir(OpId.ROOT, 3), "/d", dir(d, 2),
                "/d/f", file(f, f, 2, false), "/g", file(f, f, 2, false)));
        assertEquals("passed", check(() -> Checks.wellFormed(new Tree(new TreeMap<>(ok)))));

        Map<String, Tree.Entry> orphan = new TreeMap<>(ok);
        orphan.put("/x/y", file(new OpId(3, "A"), new OpId(3, "A"), 1, false));
        assertEquals("orphan", check(() -> Checks.wellFormed(new Tree(new TreeMap<>(orphan)))));

        Map<String, Tree.Entry> twice = new TreeMap<>(ok);
        twice.put("/d/again", dir(d, 2));
        twice.put("/d", dir(d, 3));
        assertEquals("duplicate-dir", check(() -> Checks.wellFormed(new Tree(new TreeMap<>(twice)))));

        Map<String, Tree.Entry> links = new TreeMap<>(ok);
        links.put("/g", file(f, f, 1, false));
        assertEquals("nlink", check(() -> Checks.wellFormed(new Tree(new TreeMap<>(links)))));

        Map<String, Tree.Entry> other = new TreeMap<>(ok);
        other.remove("/g");
        Tree a = new Tree(new TreeMap<>(ok));
        Tree b = new Tree(new TreeMap<>(other));
        assertEquals("diverged", check(() -> Checks.converged(List.of(a, b), a)));
        assertEquals("order", check(() -> Checks.converged(List.of(a, a), b)));
    }

    @Test
    void checksFindALostVersionAndAStaleCopy() {
        OpId file = new OpId(10, "A");
        OpId wa = new OpId(20, "A");
        OpId wb = new OpId(21, "B");
        VersionVector a1 = VersionVector.EMPTY.increment("A");
        List<Envelope> log = List.of(
                new Envelope("A", 1, Map.of(), new Op.Create(file, OpId.ROOT, "f", 0100644, 0, 0, 0, null)),
                new Envelope("A", 2, Map.of(), new Op.Write(wa, file, a1.increment("A"), Manifest.EMPTY, 1)),
                new Envelope("B", 1, Map.of("A", 1L), new Op.Write(wb, file, a1.increment("B"), Manifest.EMPTY, 1)));
        Oracle oracle = new Oracle(log);
        Map<String, Tree.Entry> both = new TreeMap<>(Map.of("/", dir(OpId.ROOT, 2), "/f", file(file, wb, 1, false),
                "/f.conflict-A-x", file(file, wa, 1, true)));
        assertEquals("passed", check(() -> Checks.versions(new Tree(new TreeMap<>(both)), oracle)));

        assertEquals("conflict-name", check(() -> Checks.conflictNames(new Tree(new TreeMap<>(both)))));
        Map<String, Tree.Entry> named = new TreeMap<>(both);
        named.put("/f.conflict-A-19700101T000000Z", named.remove("/f.conflict-A-x"));
        assertEquals("passed", check(() -> Checks.conflictNames(new Tree(new TreeMap<>(named)))));
        named.put("/f.conflict-B-19700101T000000Z", named.remove("/f.conflict-A-19700101T000000Z"));
        assertEquals("conflict-name", check(() -> Checks.conflictNames(new Tree(new TreeMap<>(named)))));

        Map<String, Tree.Entry> lost = new TreeMap<>(both);
        lost.remove("/f.conflict-A-x");
        assertEquals("versions", check(() -> Checks.versions(new Tree(new TreeMap<>(lost)), oracle)));

        Map<String, Tree.Entry> stale = new TreeMap<>(both);
        stale.put("/f.conflict-A-y", file(file, file, 1, true));
        assertEquals("versions", check(() -> Checks.versions(new Tree(new TreeMap<>(stale)), oracle)));

        Map<String, Tree.Entry> gone = new TreeMap<>(Map.of("/", dir(OpId.ROOT, 2)));
        assertEquals("versions", check(() -> Checks.versions(new Tree(new TreeMap<>(gone)), oracle)));
    }

    @Test
    void aBadPropertyIsRefusedWithItsName() {
        System.setProperty("stratafs.sim.test-only", "many");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MultiSiteSimTest.property("stratafs.sim.test-only", 5, 1));
            assertEquals("-Dstratafs.sim.test-only must be a whole number of at least 1, not \"many\"", e.getMessage());
            System.setProperty("stratafs.sim.test-only", "0");
            assertThrows(IllegalArgumentException.class, () -> MultiSiteSimTest.property("stratafs.sim.test-only", 5, 1));
            System.setProperty("stratafs.sim.test-only", "12");
            assertEquals(12, MultiSiteSimTest.property("stratafs.sim.test-only", 5, 1));
        } finally {
            System.clearProperty("stratafs.sim.test-only");
        }
        assertEquals(5, MultiSiteSimTest.property("stratafs.sim.test-only", 5, 1));
    }
}
