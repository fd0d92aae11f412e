package io.stratafs.sync;

import io.stratafs.clock.Hlc;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of conflict copies, computed from the losing operation alone so every site picks the same
 * name: {@code stem.conflict-SITE-yyyyMMddTHHmmssZ.ext}, the time in UTC from the stamp's wall-clock
 * part, {@code ext} the name's last ".xxx" when the name has a dot that is not its first character.
 * When that name is taken, {@code -N} (N = 2, 3, ...) goes after the time. A name that already is
 * a conflict name (a file kept from a copy, or named so by a user) loses that tag first, so a
 * conflict name never holds two tags: {@code r.conflict-C-...Z.txt} gives {@code r.conflict-B-...Z.txt}.
 */
public final class ConflictNames {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private static final Pattern TAGGED =
            Pattern.compile("(.+?)\\.conflict-.+-\\d{8}T\\d{6}Z(?:-\\d+)?(\\.[^.]*)?");

    private ConflictNames() {
    }

    /** The conflict name for {@code name} lost by operation {@code loser}; {@code n} 1 means no suffix. */
    public static String of(String name, OpId loser, int n) {
        Matcher tagged = TAGGED.matcher(name);
        if (tagged.matches()) {
            name = tagged.group(1) + (tagged.group(2) == null ? "" : tagged.group(2));
        }
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        String time = TIME.format(Instant.ofEpochMilli(Hlc.physicalMillis(loser.hlc())));
        return stem + ".conflict-" + loser.site() + "-" + time + (n > 1 ? "-" + n : "") + ext;
    }
}
