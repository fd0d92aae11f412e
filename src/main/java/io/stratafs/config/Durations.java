package io.stratafs.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses ages such as {@code 30s}, {@code 10m}, {@code 12h}, {@code 1d} (and a bare {@code 0}) into milliseconds. */
public final class Durations {
    private static final Pattern AGE = Pattern.compile("(\\d{1,9})([smhd])");

    private Durations() {
    }

    public static long parseMillis(String text, String option) {
        String t = text.trim();
        if (t.equals("0")) {
            return 0;
        }
        Matcher m = AGE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(option + " must be a whole number with s, m, h or d (30s, 10m, 12h, 1d) or 0, got \""
                    + text + "\"");
        }
        long unit = switch (m.group(2)) {
            case "s" -> 1_000L;
            case "m" -> 60_000L;
            case "h" -> 3_600_000L;
            default -> 86_400_000L;
        };
        return Long.parseLong(m.group(1)) * unit;
    }
}
