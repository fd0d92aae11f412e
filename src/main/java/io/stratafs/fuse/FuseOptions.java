package io.stratafs.fuse;

import java.util.ArrayList;
import java.util.List;

/**
 * The mount's {@code -o} options split between libfuse and the adapter. libfuse 2's low-level API
 * refuses the path API's options: {@code attr_timeout} and {@code entry_timeout} become the
 * timeouts the adapter puts in its replies (1 s each unless given), and {@code use_ino} (inode
 * numbers always reach stat now) and {@code hard_remove} (no file is ever hidden now) are dropped.
 * Everything else goes to libfuse, which takes the kernel's options at mount and its own at
 * session start, and fails with a message on anything it does not know.
 */
record FuseOptions(double attrTimeout, double entryTimeout, List<String> libfuseOptions) {
    static final double DEFAULT_TIMEOUT = 1.0;

    /** Parses {@code -o a,b=c} pairs (and bare {@code -oa,b} words); the last value of a timeout wins. */
    static FuseOptions parse(List<String> args) {
        double attr = DEFAULT_TIMEOUT;
        double entry = DEFAULT_TIMEOUT;
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
                } else {
                    rest.add(o);
                }
            }
        }
        return new FuseOptions(attr, entry, List.copyOf(rest));
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
