package io.stratafs.cli;

import java.util.Arrays;
import java.util.List;

/**
 * Who may use a mount: when root mounts, every user (FUSE's {@code allow_other}, as JuiceFS does), so
 * services and users' shells can use the share; the kernel still checks mode bits
 * ({@code default_permissions}). Without {@code allow_other} the kernel refuses every other user outright.
 */
final class MountAccess {
    private MountAccess() {
    }

    /** Whether the -o options already say who may use the mount (allow_other, or libfuse's exclusive allow_root). */
    static boolean asked(List<String> fuseOptions) {
        return fuseOptions.stream().flatMap(o -> Arrays.stream(o.split(",")))
                .anyMatch(o -> o.trim().equals("allow_other") || o.trim().equals("allow_root"));
    }

    /** Whether to add allow_other: root mounts it unless told not to or the options already decide. */
    static boolean allowOtherByDefault(boolean noAllowOther, List<String> fuseOptions) {
        return !noAllowOther && isRoot() && !asked(fuseOptions);
    }

    private static boolean isRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }
}
