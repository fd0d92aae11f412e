package io.stratafs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratafs.vfs.FsException;
import org.junit.jupiter.api.Test;

class InodeNamesTest {
    private final InodeNames names = new InodeNames();

    @Test
    void pathsAreBuiltByWalkingUpTheNamesTheKernelWasGiven() throws Exception {
        names.entered(1, "d", 2, true);
        names.entered(2, "f", 3, false);
        assertEquals("/", names.path(1));
        assertEquals("/d/f", names.path(3));
        assertEquals("/d/g", names.child(2, "g"));
    }

    @Test
    void aHardLinkKeepsItsOtherNameWhenOneIsUnlinkedAndNoneWhenBothAre() throws Exception {
        names.entered(1, "a", 5, false);
        names.entered(1, "b", 5, false);
        names.removed(1, "a");
        assertEquals("/b", names.path(5));
        names.removed(1, "b");
        assertNull(names.path(5), "unlinked while the kernel holds it");
    }

    @Test
    void aRenamedDirectoryCarriesItsChildrenAndTheTargetLosesItsName() throws Exception {
        names.entered(1, "d", 2, true);
        names.entered(2, "f", 3, false);
        names.entered(1, "victim", 4, false);
        names.renamed(1, "d", 1, "victim");
        assertEquals("/victim/f", names.path(3));
        assertNull(names.path(4));
    }

    @Test
    void forgetDropsAnInodeOnlyWhenEveryLookupIsForgotten() throws Exception {
        names.entered(1, "f", 3, false);
        names.entered(1, "f", 3, false);
        names.forget(3, 1);
        assertEquals("/f", names.path(3));
        names.forget(3, 1);
        assertEquals(0, names.size());
        assertThrows(FsException.class, () -> names.path(3));
    }

    @Test
    void aDirectoryLookedUpUnderANewNameForgetsTheOldOne() throws Exception {
        names.entered(1, "old", 2, true);
        names.entered(1, "new", 2, true);
        assertEquals("/new", names.path(2));
        assertEquals(0, names.removed(1, "old"));
    }
}
