package io.stratafs.sync.sim;

import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.MemoryReplicaStore;
import io.stratafs.sync.Replica;
import io.stratafs.sync.ReplicaStore;
import io.stratafs.sync.SyncException;
import io.stratafs.sync.Tree;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Runs one {@link Schedule} against real {@link Replica}s over {@link MemoryReplicaStore}s, each site
 * with its own skewed wall clock, then heals the network, delivers everything and checks the rules
 * of docs/SEMANTICS.md "Sites" (see {@link Checks}). Single-threaded and driven only by the
 * schedule, so one schedule always gives the same trace and the same trees.
 */
final class Simulation {
    static final long START_MS = Instant.parse("2026-11-30T09:00:00Z").toEpochMilli();

    /** What a run produced: the trace of every step, the digest of every site's final tree, and counts of what happened. */
    record Outcome(List<String> trace, List<String> digests, Map<String, Integer> counts) {
    }

    /** One site: its replica, the store under it, its published log and its saved copies of state. */
    private final class Site implements Network.Receiver {
        final int index;
        final String name;
        long skewMs;
        ReplicaStore store = new MemoryReplicaStore();
        Replica replica;
        final List<Envelope> published = new ArrayList<>();
        final List<ReplicaStore> snapshots = new ArrayList<>();
        long maxStamp;

        Site(int index, long skewMs) {
            this.index = index;
            this.name = Schedule.siteName(index);
            this.skewMs = skewMs;
            snapshots.add(store.copy());
            replica = new Replica(name, this::wall, store);
        }

        long wall() {
            return now + skewMs;
        }

        long cursor(String site) {
            return replica.cursors().getOrDefault(site, 0L);
        }

        @Override
        public boolean ready(Envelope e) {
            boolean engine = replica.ready(e);
            boolean rule = causallyReady(replica.cursors(), e);
            if (engine != rule) {
                throw new SimFailure("ready", name + ".ready(" + e.site() + "#" + e.seq() + ") is " + engine
                        + " but causal order says " + rule + " (cursors " + replica.cursors() + ", deps " + e.deps() + ")");
            }
            return engine;
        }

        @Override
        public boolean applied(Envelope e) {
            return cursor(e.site()) >= e.seq();
        }

        @Override
        public void apply(Envelope e) {
            replica.apply(e);
            if (cursor(e.site()) != e.seq()) {
                throw new SimFailure("cursor", name + " applied " + e.site() + "#" + e.seq() + " but its cursor for "
                        + e.site() + " is " + cursor(e.site()));
            }
            maxStamp = Math.max(maxStamp, e.op().id().hlc());
            count("envelopes applied");
        }
    }

    /** A local operation as the workload calls it. */
    private interface LocalCall {
        Envelope run(Replica r) throws SyncException;
    }

    private final Schedule schedule;
    private final List<Site> sites = new ArrayList<>();
    private final Network net;
    private final List<String> trace = new ArrayList<>();
    private long now = START_MS;
    private final Map<String, Integer> counts = new TreeMap<>();

    private Simulation(Schedule schedule) {
        this.schedule = schedule;
        for (int i = 0; i < schedule.sites(); i++) {
            sites.add(new Site(i, schedule.skewsMs().get(i)));
        }
        this.net = new Network(schedule.sites());
    }

    /** Runs the schedule and every check; throws {@link SimFailure} naming the first rule broken. */
    static Outcome run(Schedule schedule) {
        Simulation sim = new Simulation(schedule);
        try {
            return sim.execute();
        } catch (SimFailure f) {
            StringBuilder b = new StringBuilder();
            sim.trace.forEach(line -> b.append("  ").append(line).append('\n'));
            for (Site s : sim.sites) {
                try {
                    b.append("tree at ").append(s.name).append(":\n").append(s.replica.tree());
                } catch (RuntimeException | StackOverflowError e) {
                    b.append("tree at ").append(s.name).append(" throws ").append(e).append('\n');
                }
            }
            f.trace = b.toString();
            throw f;
        }
    }

    static boolean causallyReady(Map<String, Long> cursors, Envelope e) {
        if (cursors.getOrDefault(e.site(), 0L) != e.seq() - 1) {
            return false;
        }
        for (Map.Entry<String, Long> d : e.deps().entrySet()) {
            if (!d.getKey().equals(e.site()) && cursors.getOrDefault(d.getKey(), 0L) < d.getValue()) {
                return false;
            }
        }
        return true;
    }

    private Outcome execute() {
        int i = 0;
        for (Schedule.Step step : schedule.steps()) {
            trace.add("step " + i + " " + step.kind() + " " + step);
            try {
                step(step);
            } catch (SimFailure f) {
                throw new SimFailure(f.check, "step " + i + " " + step + ": " + f.getMessage().substring(f.check.length() + 3), f.getCause());
            } catch (RuntimeException | StackOverflowError e) {
                throw new SimFailure("engine-exception", "step " + i + " " + step + " threw " + e, e);
            }
            i++;
        }
        Random r = new Random(mix());
        try {
            settle(r);
            List<Tree> trees = new ArrayList<>();
            for (Site s : sites) {
                trees.add(s.replica.tree());
            }
            List<Envelope> all = new ArrayList<>();
            sites.forEach(s -> all.addAll(s.published));
            Tree observed = observer(all, r);
            List<String> digests = Checks.converged(trees, observed);
            Checks.wellFormed(trees.get(0));
            Checks.conflictNames(trees.get(0));
            Oracle oracle = new Oracle(all);
            Checks.versions(trees.get(0), oracle);
            Checks.attributes(trees.get(0), oracle);
            trace.add("digests " + digests);
            counts.put("envelopes", all.size());
            trees.get(0).entries().values().forEach(e -> count(e.conflictCopy() ? "conflict copies at the end" : "entries at the end"));
            return new Outcome(List.copyOf(trace), digests, Map.copyOf(counts));
        } catch (RuntimeException | StackOverflowError e) {
            throw new SimFailure("engine-exception", "while settling: " + e, e);
        }
    }

    private void count(String what) {
        counts.merge(what, 1, Integer::sum);
    }

    private long mix() {
        long h = 17;
        for (Schedule.Step s : schedule.steps()) {
            h = h * 31 + s.rnd();
        }
        return h;
    }

    private void step(Schedule.Step step) {
        Random r = new Random(step.rnd());
        now += 1 + r.nextInt(3000);
        Site s = sites.get(step.site());
        Site o = sites.get(step.other());
        switch (step.kind()) {
            case SETUP -> setup(s, r);
            case OP -> randomOp(s, r);
            case TWIN -> twin(s, o, r);
            case CROSS_MOVE -> crossMove(s, o, r);
            case PUBLISH -> publish(s);
            case FETCH -> net.fetch(s.index, o.index, o.published, s.cursor(o.name), r, false);
            case DELIVER -> {
                net.arrive(s.index, 1 + r.nextInt(5), r, true);
                net.drain(s.index, s);
            }
            case SYNC_ALL -> syncAll(r);
            case PARTITION -> {
                if (r.nextBoolean()) {
                    net.isolate(r.nextInt(sites.size()));
                } else {
                    net.cut(r.nextInt(sites.size()), r.nextInt(sites.size()));
                }
            }
            case HEAL -> net.heal();
            case SNAPSHOT -> s.snapshots.add(s.store.copy());
            case CRASH -> crash(s, r);
            case CLOCK -> s.skewMs += r.nextInt(10) < 7 ? -r.nextInt(7_200_000) : r.nextInt(1_800_000);
            case DUPLICATE -> duplicate(s, r);
            default -> throw new IllegalStateException("no step " + step.kind());
        }
    }

    /** Runs one local operation and checks what it logged; false if the engine refused it. */
    private boolean local(Site s, String what, LocalCall call) {
        long before = s.cursor(s.name);
        Envelope e;
        try {
            e = call.run(s.replica);
        } catch (SyncException x) {
            count("local operations refused");
            trace.add(s.name + " refused " + what + ": " + x.kind());
            return false;
        }
        // one call may log several operations (renaming a merged directory moves each of its names);
        // it returns the last, and the log must hold all of them in order, each stamped later
        List<Envelope> made = s.replica.log(before);
        if (e == null || made.isEmpty() || !made.get(made.size() - 1).op().id().equals(e.op().id())
                || e.seq() != before + made.size()) {
            throw new SimFailure("log", s.name + " " + what + " returned " + e + " after own position " + before
                    + " with log " + made);
        }
        for (Envelope m : made) {
            if (!m.site().equals(s.name) || m.op().id().hlc() <= s.maxStamp) {
                throw new SimFailure("hlc", s.name + " " + what + " logged " + m.site() + "#" + m.seq() + " stamped "
                        + m.op().id() + ", not after the stamp " + Long.toHexString(s.maxStamp)
                        + " it had already issued or applied");
            }
            s.maxStamp = m.op().id().hlc();
        }
        if (s.cursor(s.name) != e.seq()) {
            throw new SimFailure("cursor", s.name + " made #" + e.seq() + " but its own cursor is " + s.cursor(s.name));
        }
        count("local operations");
        trace.add(s.name + "#" + e.seq() + " " + what + " = " + e.op().getClass().getSimpleName() + " " + e.op().id());
        return true;
    }

    private void setup(Site s, Random r) {
        for (String d : new String[] {"/d0", "/d1", "/d2", "/d3", "/d0/e"}) {
            local(s, "mkdir " + d, x -> x.create(d, Oracle.S_IFDIR | 0755, 0, 0, 0, null));
        }
        for (String f : new String[] {"/d0/a.txt", "/d1/b", "/r.md", "/d0/e/c"}) {
            local(s, "create " + f, x -> x.create(f, Oracle.S_IFREG | 0644, 1000, 1000, 0, null));
            Manifest m = Workload.content(r);
            local(s, "write " + f, x -> x.write(f, m, s.wall() * 1_000_000L));
        }
    }

    private void randomOp(Site s, Random r) {
        Workload.View v = new Workload.View(s.replica.tree());
        int k = r.nextInt(100);
        String dir = Workload.pick(v.dirs, r);
        String fresh = Workload.child(dir, Workload.name(r));
        if (k < 14) {
            createFile(s, fresh, r);
        } else if (k < 23) {
            local(s, "mkdir " + fresh, x -> x.create(fresh, Oracle.S_IFDIR | 0755, 0, 0, 0, null));
        } else if (k < 26) {
            byte[] target = ("../" + Workload.name(r)).getBytes(StandardCharsets.UTF_8);
            local(s, "symlink " + fresh, x -> x.create(fresh, 0120777, 1000, 1000, 0, target));
        } else if (k < 27) {
            local(s, "mkfifo " + fresh, x -> x.create(fresh, 0010644, 0, 0, 0, null));
        } else if (k < 43 && !v.files.isEmpty()) {
            write(s, Workload.pick(v.files, r), r);
        } else if (k < 48 && !v.files.isEmpty()) {
            String f = Workload.pick(v.files, r);
            Manifest m = Workload.truncated(v.get(f).content(), r);
            local(s, "truncate " + f + " " + m.size(), x -> x.write(f, m, s.wall() * 1_000_000L));
        } else if (k < 62 && !v.entries.isEmpty()) {
            String from = Workload.pick(v.entries, r);
            String to = r.nextBoolean() ? Workload.child(dir, Workload.base(from)) : fresh;
            rename(s, from, to);
        } else if (k < 67 && !v.nonDirs.isEmpty()) {
            String f = Workload.pick(v.nonDirs, r);
            local(s, "link " + f + " " + fresh, x -> x.link(f, fresh));
        } else if (k < 77 && !v.entries.isEmpty()) {
            remove(s, Workload.pick(r.nextBoolean() && !v.nonDirs.isEmpty() ? v.nonDirs : v.entries, r));
        } else if (k < 84 && !v.entries.isEmpty()) {
            setAttr(s, Workload.pick(v.entries, r), r);
        } else if (k < 89 && !v.entries.isEmpty()) {
            setXattr(s, Workload.pick(v.entries, r), r);
        } else if (k < 94 && !v.copies.isEmpty()) {
            String c = Workload.pick(v.copies, r);
            local(s, "discard " + c, x -> x.discardConflictCopy(c));
        } else if (!v.copies.isEmpty()) {
            onCopy(s, Workload.pick(v.copies, r), fresh, r);
        } else {
            createFile(s, fresh, r);
        }
    }

    /** Operations a user may try on a conflict copy: some are refused (EROFS), none may break a rule. */
    private void onCopy(Site s, String copy, String fresh, Random r) {
        switch (r.nextInt(4)) {
            case 0 -> write(s, copy, r);
            case 1 -> rename(s, copy, fresh);
            case 2 -> remove(s, copy);
            default -> setAttr(s, copy, r);
        }
    }

    private void createFile(Site s, String path, Random r) {
        int uid = Workload.randomOwner(r);
        local(s, "create " + path, x -> x.create(path, Oracle.S_IFREG | 0644, uid, uid, 0, null));
    }

    private void write(Site s, String path, Random r) {
        Manifest m = Workload.content(r);
        local(s, "write " + path + " " + m.size(), x -> x.write(path, m, s.wall() * 1_000_000L));
    }

    private boolean rename(Site s, String from, String to) {
        return local(s, "rename " + from + " " + to, x -> x.rename(from, to));
    }

    private void remove(Site s, String path) {
        local(s, "remove " + path, x -> x.remove(path));
    }

    private void setAttr(Site s, String path, Random r) {
        int mask = Workload.randomMask(r);
        int perm = Workload.randomPerm(r);
        int uid = Workload.randomOwner(r);
        int gid = Workload.randomOwner(r);
        long t = s.wall() * 1_000_000L - r.nextInt(1_000_000_000);
        local(s, "setattr " + path + " mask " + mask, x -> x.setAttr(path, mask, perm, uid, gid, t, t + 1));
    }

    private void setXattr(Site s, String path, Random r) {
        String name = Workload.XATTRS[r.nextInt(Workload.XATTRS.length)];
        byte[] value = r.nextInt(3) == 0 ? null : ("v" + r.nextInt(4)).getBytes(StandardCharsets.UTF_8);
        local(s, (value == null ? "removexattr " : "setxattr ") + path + " " + name, x -> x.setXattr(path, name, value));
    }

    /** The same path changed at two sites before either hears of the other: the conflict cases. */
    private void twin(Site s, Site o, Random r) {
        if (s == o) {
            return;
        }
        Workload.View vs = new Workload.View(s.replica.tree());
        Workload.View vo = new Workload.View(o.replica.tree());
        List<String> files = vs.common(vo, vs.files);
        List<String> entries = vs.common(vo, vs.entries);
        List<String> dirs = vs.common(vo, vs.dirs);
        dirs.add("/");
        String f = Workload.pick(files, r);
        String e = Workload.pick(entries, r);
        String d = Workload.pick(dirs, r);
        List<String> copies = vs.common(vo, vs.copies);
        // conflict copies both sites see are rare; when there are some, resolve them at both sites often
        switch (!copies.isEmpty() && r.nextBoolean() ? 8 : r.nextInt(9)) {
            case 0 -> {
                if (f != null) {
                    write(s, f, r);
                    write(o, f, r);
                }
            }
            case 1 -> {
                if (f != null) {
                    write(s, f, r);
                    remove(o, f);
                }
            }
            case 2 -> {
                if (e != null) {
                    rename(s, e, Workload.child(Workload.pick(dirs, r), Workload.name(r)));
                    rename(o, e, Workload.child(Workload.pick(dirs, r), Workload.name(r)));
                }
            }
            case 3 -> {
                if (e != null) {
                    setAttr(s, e, r);
                    setAttr(o, e, r);
                    String name = Workload.XATTRS[0];
                    local(s, "setxattr " + e, x -> x.setXattr(e, name, new byte[] {1}));
                    local(o, "setxattr " + e, x -> x.setXattr(e, name, new byte[] {2}));
                }
            }
            case 4 -> {
                String p = Workload.child(d, Workload.name(r));
                for (Site x : List.of(s, o)) {
                    if (r.nextBoolean()) {
                        local(x, "mkdir " + p, y -> y.create(p, Oracle.S_IFDIR | 0755, 0, 0, 0, null));
                    } else {
                        createFile(x, p, r);
                        write(x, p, r);
                    }
                }
            }
            case 5 -> {
                if (e != null) {
                    rename(s, e, Workload.child(Workload.pick(dirs, r), Workload.name(r)));
                    remove(o, e);
                }
            }
            case 6 -> {
                if (f != null) {
                    String p = Workload.child(Workload.pick(dirs, r), Workload.name(r));
                    local(s, "link " + f + " " + p, x -> x.link(f, p));
                    remove(o, f);
                }
            }
            case 8 -> {
                // both sites resolve the conflict at once: each discards a copy (or the same one), or one discards while the other writes
                String c = Workload.pick(copies, r);
                if (c != null) {
                    boolean first = local(s, "discard " + c, x -> x.discardConflictCopy(c));
                    String other = Workload.pick(copies, r);
                    if (r.nextBoolean()) {
                        if (local(o, "discard " + other, x -> x.discardConflictCopy(other)) && first) {
                            count("concurrent discards");
                        }
                    } else {
                        vo.files.stream().filter(p -> vo.get(p).node().equals(vo.get(c).node())).findFirst()
                                .ifPresent(p -> write(o, p, r));
                    }
                }
            }
            default -> {
                if (!"/".equals(d)) {
                    // rmdir at one site (children first) while the other creates or moves a file inside: add wins
                    List<String> inside = new ArrayList<>();
                    for (String p : vs.tree.entries().keySet()) {
                        if (Workload.within(p, d)) {
                            inside.add(p);
                        }
                    }
                    Collections.reverse(inside);
                    inside.forEach(p -> remove(s, p));
                    String elsewhere = Workload.pick(vo.common(vs, vo.nonDirs), r);
                    if (elsewhere != null && !Workload.within(elsewhere, d) && r.nextBoolean()) {
                        rename(o, elsewhere, Workload.child(d, Workload.base(elsewhere)));
                    } else {
                        createFile(o, Workload.child(d, Workload.name(r)), r);
                    }
                }
            }
        }
    }

    /**
     * A moved into B at one site while B moves into A at the other; with a third site and one time
     * in three, a ring of three (A into B, B into C, C into A), each at its own site.
     */
    private void crossMove(Site s, Site o, Random r) {
        if (s == o) {
            return;
        }
        Site t = sites.stream().filter(x -> x != s && x != o).findFirst().orElse(null);
        boolean ring = t != null && r.nextInt(3) == 0;
        Workload.View vs = new Workload.View(s.replica.tree());
        List<String> dirs = vs.common(new Workload.View(o.replica.tree()), vs.dirs);
        if (ring) {
            dirs = vs.common(new Workload.View(t.replica.tree()), dirs);
        }
        Collections.shuffle(dirs, r);
        List<String> chosen = new ArrayList<>();
        for (String d : dirs) {
            if (chosen.stream().allMatch(c -> !Workload.within(c, d) && !Workload.within(d, c))) {
                chosen.add(d);
            }
            if (chosen.size() == (ring ? 3 : 2)) {
                List<Site> movers = ring ? List.of(s, o, t) : List.of(s, o);
                boolean all = true;
                for (int i = 0; i < movers.size(); i++) {
                    String from = chosen.get(i);
                    String into = chosen.get((i + 1) % chosen.size());
                    all &= rename(movers.get(i), from, Workload.child(into, Workload.base(from)));
                }
                if (all) {
                    count(ring ? "ring moves" : "crossed moves");
                }
                return;
            }
        }
        trace.add("no unrelated directories for a crossed move at " + s.name + " and " + o.name);
    }

    private void publish(Site s) {
        List<Envelope> fresh = s.replica.log(s.published.size());
        for (Envelope e : fresh) {
            if (e.seq() != s.published.size() + 1 || !e.site().equals(s.name)) {
                throw new SimFailure("log", s.name + ".log(" + s.published.size() + ") holds " + e.site() + "#" + e.seq()
                        + " where " + s.name + "#" + (s.published.size() + 1) + " belongs");
            }
            s.published.add(e);
        }
    }

    private void syncAll(Random r) {
        sites.forEach(this::publish);
        for (Site to : sites) {
            for (Site from : sites) {
                net.fetch(to.index, from.index, from.published, to.cursor(from.name), r, true);
            }
            net.arriveAll(to.index, r);
            net.drain(to.index, to);
        }
        sameEnvelopesSameTree();
    }

    /** Mid-run, not only at the end: sites that applied the same envelopes (equal cursors) present the same tree. */
    private void sameEnvelopesSameTree() {
        Map<Map<String, Long>, Site> byCursors = new HashMap<>();
        for (Site s : sites) {
            Site twin = byCursors.putIfAbsent(s.replica.cursors(), s);
            if (twin != null) {
                count("mid-run tree comparisons");
                Tree a = twin.replica.tree();
                Tree b = s.replica.tree();
                if (!a.equals(b)) {
                    throw new SimFailure("diverged", s.name + " and " + twin.name + " applied the same envelopes "
                            + s.replica.cursors() + " but differ: " + Checks.difference(b, a));
                }
            }
        }
    }

    /**
     * The site restarts from a saved copy of its state (or its latest state), forgets what was in
     * flight, and re-applies its own published log (with the peers' operations those depend on)
     * before it acts again. Operations it had not published are lost, as on a real machine.
     */
    private void crash(Site s, Random r) {
        int k = r.nextInt(s.snapshots.size() + 1);
        if (k < s.snapshots.size()) {
            s.store = s.snapshots.get(k).copy();
            s.snapshots.subList(k + 1, s.snapshots.size()).clear();
        }
        s.replica = new Replica(s.name, s::wall, s.store);
        count(k < s.snapshots.size() ? "restarts from an older copy" : "restarts from the latest state");
        net.restart(s.index, s.replica.cursors());
        trace.add(s.name + " restarts from " + (k < s.snapshots.size() ? "copy " + k : "its latest state")
                + " at " + s.replica.cursors());
        while (s.cursor(s.name) < s.published.size()) {
            Envelope mine = s.published.get((int) s.cursor(s.name));
            if (s.ready(mine)) {
                s.apply(mine);
                continue;
            }
            boolean progress = false;
            for (Site p : sites) {
                long c = s.cursor(p.name);
                if (p != s && c < mine.deps().getOrDefault(p.name, 0L) && s.ready(p.published.get((int) c))) {
                    s.apply(p.published.get((int) c));
                    progress = true;
                }
            }
            if (!progress) {
                throw new SimFailure("recovery", s.name + " cannot re-apply its own #" + mine.seq() + " (deps "
                        + mine.deps() + ", cursors " + s.replica.cursors() + ")");
            }
        }
        List<Envelope> own = s.replica.log(0);
        for (int i = 0; i < s.published.size(); i++) {
            if (i >= own.size() || !own.get(i).op().id().equals(s.published.get(i).op().id())) {
                throw new SimFailure("recovery", s.name + "'s log after restart differs from what it published at #" + (i + 1));
            }
        }
        s.maxStamp = 0;
        for (Site p : sites) {
            long c = s.cursor(p.name);
            List<Envelope> log = p == s ? own : p.published;
            if (c > 0) {
                s.maxStamp = Math.max(s.maxStamp, log.get((int) c - 1).op().id().hlc());
            }
        }
    }

    /** Applying an envelope again must change nothing. */
    private void duplicate(Site s, Random r) {
        Site from = sites.get(r.nextInt(sites.size()));
        int upTo = (int) Math.min(s.cursor(from.name), from.published.size());
        if (upTo == 0) {
            return;
        }
        Envelope e = from.published.get(r.nextInt(upTo));
        String digest = s.replica.tree().digest();
        Map<String, Long> cursors = s.replica.cursors();
        if (s.replica.ready(e)) {
            throw new SimFailure("applied-twice", s.name + ".ready(" + e.site() + "#" + e.seq() + ") is true, but it was applied");
        }
        s.replica.apply(e);
        if (!digest.equals(s.replica.tree().digest()) || !cursors.equals(s.replica.cursors())) {
            throw new SimFailure("applied-twice", s.name + " changed when " + e.site() + "#" + e.seq() + " was applied again");
        }
    }

    /** Heal every link, publish everything and deliver until nothing moves. */
    private void settle(Random r) {
        net.heal();
        for (int round = 0; ; round++) {
            sites.forEach(this::publish);
            int moved = 0;
            for (Site to : sites) {
                for (Site from : sites) {
                    net.fetch(to.index, from.index, from.published, to.cursor(from.name), r, true);
                }
                net.arriveAll(to.index, r);
                moved += net.drain(to.index, to);
            }
            if (moved == 0) {
                break;
            }
            if (round > 50) {
                throw new SimFailure("stuck", "delivery still moving after 50 rounds");
            }
        }
        for (Site to : sites) {
            for (Site from : sites) {
                if (to.cursor(from.name) != from.published.size()) {
                    throw new SimFailure("stuck", to.name + " applied " + to.cursor(from.name) + " of " + from.name + "'s "
                            + from.published.size() + " envelopes after healing (waiting: " + net.waiting(to.index) + ")");
                }
            }
        }
    }

    /** A fresh replica fed every envelope in another random causal order: it must present the same tree. */
    private Tree observer(List<Envelope> all, Random r) {
        Replica obs = new Replica("observer", () -> now, new MemoryReplicaStore());
        List<Envelope> pending = new ArrayList<>(all);
        Collections.shuffle(pending, r);
        while (!pending.isEmpty()) {
            List<Integer> ready = new ArrayList<>();
            for (int i = 0; i < pending.size(); i++) {
                if (obs.ready(pending.get(i))) {
                    ready.add(i);
                }
            }
            if (ready.isEmpty()) {
                throw new SimFailure("stuck", "an observer that applied " + (all.size() - pending.size()) + " of "
                        + all.size() + " envelopes finds none of the rest ready");
            }
            obs.apply(pending.remove((int) ready.get(r.nextInt(ready.size()))));
        }
        return obs.tree();
    }
}
