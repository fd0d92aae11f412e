package io.stratafs.sync.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One simulated history, as data: how many sites, how far each site's wall clock is off, and the
 * steps in order. Each step carries its own random number, and what it does is decided from that
 * number and the state the sites are in when it runs, so any subset of the steps is still a valid
 * schedule; that is what lets the shrinker drop steps and sites freely. {@link #encode} gives a
 * one-line form that {@link #decode} reads back, for replaying a shrunk schedule.
 */
record Schedule(int sites, List<Long> skewsMs, List<Step> steps) {
    static final String[] SITE_NAMES = {"A", "B", "C", "D"};

    Schedule {
        skewsMs = List.copyOf(skewsMs);
        steps = List.copyOf(steps);
        if (sites < 1 || sites > SITE_NAMES.length || skewsMs.size() != sites) {
            throw new IllegalArgumentException("a schedule has 1 to " + SITE_NAMES.length
                    + " sites with one clock skew each, not " + sites + " sites and " + skewsMs.size() + " skews");
        }
        for (Step s : steps) {
            if (s.site >= sites || s.other >= sites) {
                throw new IllegalArgumentException("step " + s + " names a site beyond the " + sites + " of the schedule");
            }
        }
    }

    /** What one step does; the letters are the encoded form. */
    enum Kind {
        SETUP('S'), OP('O'), TWIN('T'), CROSS_MOVE('X'), PUBLISH('P'), FETCH('F'), DELIVER('D'),
        SYNC_ALL('Y'), PARTITION('N'), HEAL('H'), SNAPSHOT('K'), CRASH('C'), CLOCK('L'), DUPLICATE('U');

        final char code;

        Kind(char code) {
            this.code = code;
        }

        static Kind of(char c) {
            for (Kind k : values()) {
                if (k.code == c) {
                    return k;
                }
            }
            throw new IllegalArgumentException("no step kind '" + c + "'");
        }
    }

    /** One step: {@code site} acts (or receives), {@code other} is the second site it involves, if any. */
    record Step(Kind kind, int site, int other, long rnd) {
        @Override
        public String toString() {
            return kind.code + ":" + site + ":" + other + ":" + Long.toHexString(rnd);
        }
    }

    static String siteName(int i) {
        return SITE_NAMES[i];
    }

    /** The schedule a seed stands for: 3 sites (4 in one schedule out of four), {@code steps} steps after the set-up. */
    static Schedule generate(long seed, int steps) {
        Random r = new Random(seed);
        int sites = r.nextInt(4) == 0 ? 4 : 3;
        List<Long> skews = new ArrayList<>();
        for (int i = 0; i < sites; i++) {
            // up to three hours either way: enough to put a later write's wall clock before an earlier one's
            skews.add((long) (r.nextGaussian() * 3_600_000L) % 10_800_000L);
        }
        List<Step> out = new ArrayList<>();
        out.add(new Step(Kind.SETUP, 0, 0, r.nextLong()));
        out.add(new Step(Kind.SYNC_ALL, 0, 0, r.nextLong()));
        for (int i = 0; i < steps; i++) {
            out.add(randomStep(r, sites));
        }
        return new Schedule(sites, skews, out);
    }

    private static Step randomStep(Random r, int sites) {
        int site = r.nextInt(sites);
        int other = (site + 1 + r.nextInt(sites - 1)) % sites;
        int w = r.nextInt(100);
        Kind k;
        if (w < 30) {
            k = Kind.OP;
        } else if (w < 36) {
            k = Kind.TWIN;
        } else if (w < 42) {
            k = Kind.CROSS_MOVE;
        } else if (w < 52) {
            k = Kind.PUBLISH;
        } else if (w < 66) {
            k = Kind.FETCH;
        } else if (w < 80) {
            k = Kind.DELIVER;
        } else if (w < 84) {
            k = Kind.SYNC_ALL;
        } else if (w < 88) {
            k = Kind.PARTITION;
        } else if (w < 90) {
            k = Kind.HEAL;
        } else if (w < 94) {
            k = Kind.SNAPSHOT;
        } else if (w < 96) {
            k = Kind.CRASH;
        } else if (w < 98) {
            k = Kind.CLOCK;
        } else {
            k = Kind.DUPLICATE;
        }
        return new Step(k, site, other, r.nextLong());
    }

    /** This schedule without site {@code victim}: its steps go, later sites move down one place. */
    Schedule withoutSite(int victim) {
        List<Long> skews = new ArrayList<>(skewsMs);
        skews.remove(victim);
        List<Step> out = new ArrayList<>();
        for (Step s : steps) {
            if (s.site == victim || (s.other == victim && involvesOther(s.kind))) {
                continue;
            }
            int site = s.site > victim ? s.site - 1 : s.site;
            int other = s.other > victim ? s.other - 1 : s.other;
            out.add(new Step(s.kind, site, involvesOther(s.kind) ? other : 0, s.rnd));
        }
        return new Schedule(sites - 1, skews, out);
    }

    private static boolean involvesOther(Kind k) {
        return k == Kind.TWIN || k == Kind.CROSS_MOVE || k == Kind.FETCH;
    }

    Schedule withSteps(List<Step> newSteps) {
        return new Schedule(sites, skewsMs, newSteps);
    }

    String encode() {
        StringBuilder b = new StringBuilder().append(sites).append('/');
        for (int i = 0; i < skewsMs.size(); i++) {
            b.append(i == 0 ? "" : ",").append(skewsMs.get(i));
        }
        b.append('/');
        for (int i = 0; i < steps.size(); i++) {
            b.append(i == 0 ? "" : ",").append(steps.get(i));
        }
        return b.toString();
    }

    static Schedule decode(String s) {
        String[] parts = s.trim().split("/", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("a schedule reads SITES/SKEW,SKEW,.../STEP,STEP,..., not \"" + s + "\"");
        }
        try {
            List<Long> skews = new ArrayList<>();
            for (String x : parts[1].split(",")) {
                skews.add(Long.parseLong(x));
            }
            List<Step> steps = new ArrayList<>();
            if (!parts[2].isEmpty()) {
                for (String x : parts[2].split(",")) {
                    String[] f = x.split(":");
                    if (f.length != 4 || f[0].length() != 1) {
                        throw new IllegalArgumentException("a step reads KIND:SITE:OTHER:HEX, not \"" + x + "\"");
                    }
                    steps.add(new Step(Kind.of(f[0].charAt(0)), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                            Long.parseUnsignedLong(f[3], 16)));
                }
            }
            return new Schedule(Integer.parseInt(parts[0]), skews, steps);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("schedule \"" + s + "\" has a bad number: " + e.getMessage(), e);
        }
    }
}
