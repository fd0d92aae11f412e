package io.stratafs.fuse.lowlevel;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a setattr asks to change; absent fields stay as they are. Times are nanoseconds since the
 * epoch; a "now" request (touch) arrives as {@code atimeNow}/{@code mtimeNow}, for the filesystem to
 * take from its own clock.
 */
public record SetAttrs(OptionalInt mode, OptionalInt uid, OptionalInt gid, OptionalLong size,
                       OptionalLong atimeNs, boolean atimeNow, OptionalLong mtimeNs, boolean mtimeNow) {
}
