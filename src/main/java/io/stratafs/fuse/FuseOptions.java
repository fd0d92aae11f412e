package io.stratafs.fuse;

import io.stratafs.fuse.lowlevel.LowLevelMount;
import java.util.ArrayList;
import java.util.List;

/**
 * The mount's {@code -o} options split between libfuse and the adapter. libfuse 2's low-level API
 * refuses the path API's options: {@code attr_timeout} and {@code entry_timeout} become the
 * timeouts the adapter puts in its replies ({@value #DEFAULT_TIMEOUT} s each unless given), and
 * {@code use_ino} (inode numbers always reach stat now) and {@code hard_remove} (no file is ever
 * hidden now) are dropped. {@code spin_us=N} is how long one serving thread polls /dev/fuse after a
 * request before it sleeps ({@code SessionLoop}; default {@value LowLevelMount#DEFAULT_SPIN_MICROS},
 * 0 for none: every serving thread then sleeps in the kernel between requests).
 * Everything else goes to libfuse, which takes the kernel's options at mount and its own at
 * session start, and fails with a message on anything it does not know.
 */
record FuseOptions(double attrTimeout, double entryTimeout, long spinMicros, List<String> libfuseOptions) {
    /**
     * Seconds the kernel may trust a name or attributes. The cache does not go stale on its own:
     * every change on this site passes through this mount (the kernel updates or drops what it
     * cached), and every change the sync daemon applies from another site is announced to the
     * kernel ({@code SiteBridge}, {@link StrataLowLevel#entryChanged}, {@link StrataLowLevel#inodeChanged}).
     * The timeout only bounds how long a missed announcement could show. At 1 s, any pass over more
     * files than the daemon serves in a second (a stat after a copy, rm -r after a read) asked for
     * every name again; 10 s keeps a working set of some tens of thousands of files cached.
     */
    static final double DEFAULT_TIMEOUT = 10.0;
    /** A reader polling longer than 10 ms would mostly burn a core for nothing. */
    static final long MAX_SPIN_MICROS = 10_000;

    /** Parses {@code -o a,b=c} pairs (and bare {@code -oa,b} words); the last value of a timeout wins. */
    static FuseOptions parse(List<String> args) {
        double attr = DEFAULT_TIMEOUT;
        double entry = DEFAULT_TIMEOUT;
        long spin = LowLevelMount.DEFAULT_SPIN_MICROS;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String opts;
            if (a.equals("-o") && i + 1 < args.size()) {
                opts = args.get(++i);
            } else if (a.startsWith("-o")) {
                opts = a.substring(2);
            } else {
                throw new IllegalArgumentException("unexpected FUSE argument \"" + a + "\" (give mount options as -o NAME[=VALUE],...)");
            }
            for (String o : opts.split(",")) {
                if (o.isEmpty() || o.equals("use_ino") || o.equals("hard_remove")) {
                    continue;
                }
                if (o.startsWith("attr_timeout=")) {
                    attr = seconds(o);
                } else if (o.startsWith("entry_timeout=")) {
                    entry = seconds(o);
                } else if (o.startsWith("spin_us=")) {
                    spin = micros(o);
                } else {
                    rest.add(o);
                }
            }
        }
        return new FuseOptions(attr, entry, spin, List.copyOf(rest));
    }

    private static long micros(String option) {
        String value = option.substring(option.indexOf('=') + 1);
        try {
            long us = Long.parseLong(value);
            if (us >= 0 && us <= MAX_SPIN_MICROS) {
                return us;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new IllegalArgumentException("-o " + option + ": the polling time must be a whole number of microseconds from 0 to "
                + MAX_SPIN_MICROS);
    }

    private static double seconds(String option) {
        String value = option.substring(option.indexOf('=') + 1);
        try {
            double s = Double.parseDouble(value);
            if (s >= 0 && !Double.isInfinite(s)) {
                return s;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new IllegalArgumentException("-o " + option + ": the timeout must be a number of seconds, 0 or more");
    }
}
