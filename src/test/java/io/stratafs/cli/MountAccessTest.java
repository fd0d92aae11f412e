package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** allow_other is added for root unless --no-allow-other or the -o options already decide who may use the mount. */
class MountAccessTest {
    private static final boolean ROOT = new com.sun.security.auth.module.UnixSystem().getUid() == 0;

    @Test
    void optionsThatDecideAccessAreFoundInsideCommaLists() {
        assertTrue(MountAccess.asked(List.of("ro,allow_other")));
        assertTrue(MountAccess.asked(List.of("ro", "allow_root")));
        assertFalse(MountAccess.asked(List.of("ro,allow_otherwise", "attr_timeout=1")));
    }

    @Test
    void rootGetsAllowOtherByDefaultAndNotWhenToldOrAlreadyAsked() {
        assertEquals(ROOT, MountAccess.allowOtherByDefault(false, List.of("ro")));
        assertFalse(MountAccess.allowOtherByDefault(true, List.of()));
        assertFalse(MountAccess.allowOtherByDefault(false, List.of("allow_other")));
        assertFalse(MountAccess.allowOtherByDefault(false, List.of("allow_root")));
    }
}
