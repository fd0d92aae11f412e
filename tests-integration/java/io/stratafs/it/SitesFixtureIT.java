package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * The harness the sites tests stand on, checked without relying on propagation: three sites (two
 * directories, one S3 bucket) format and join, mount, take writes also while the S3 site's server
 * is stopped, survive kill -9 and an unmount, and leave nothing behind (no mount, no daemon, no
 * directory); a snapshot sees what the walk promises, and a wait fails with the last difference.
 */
class SitesFixtureIT {
    @Test
    void sitesMountTakeWritesSurviveKillAndCleanUpCompletely() throws Exception {
        Path root;
        List<SitesFixture.Site> all;
        try (SitesFixture sites = new SitesFixture()) {
            root = sites.root;
            SitesFixture.Site a = sites.addDirSite("A");
            SitesFixture.Site b = sites.addDirSite("B");
            SitesFixture.Site c = sites.addS3Site("C");
            sites.mountAll();
            all = sites.sites();
            for (SitesFixture.Site s : all) {
                assertTrue(s.fs.isMounted(), s.toString());
                s.sh("echo " + s.name + " > own-" + s.name + " && test \"$(cat own-" + s.name + ")\" = " + s.name);
            }
            assertEquals("A\nB\nC\n", a.fs.runOk("sites", a.fs.storage).lines()
                    .map(l -> l.strip().split(" ")[0]).filter(n -> n.matches("[ABC]")).sorted().reduce("", (x, y) -> x + y + "\n"));

            c.stopStorage();
            c.sh("echo during > during-C && test \"$(cat during-C)\" = during");
            c.restartStorage();

            b.kill9();
            assertTrue(b.fs.daemons().isEmpty(), "B's daemon survived kill -9");
            b.mountAfterKill();
            assertEquals("B\n", b.sh("cat own-B"));

            c.umount();
            c.mount();
            assertEquals("during\n", c.sh("cat during-C"));
        }
        assertFalse(Files.exists(root), root + " was left behind");
        for (SitesFixture.Site s : all) {
            assertFalse(s.fs.isMounted(), s + " is still mounted");
            assertTrue(s.fs.daemons().isEmpty(), s + " left a daemon running");
            assertFalse(Files.exists(s.fs.root), s.fs.root + " was left behind");
        }
    }

    @Test
    void aSnapshotShowsTypesModesContentsLinksAndXattrs() throws Exception {
        try (SitesFixture sites = new SitesFixture()) {
            SitesFixture.Site a = sites.addDirSite("A").mount();
            a.sh("mkdir d && echo hi > d/f && chmod 600 d/f && ln d/f d/g && ln -s f d/l && setfattr -n user.k -v v d/f");
            SortedMap<String, String> snap = SitesFixture.snapshot(a.mnt());
            assertEquals(List.of("d", "d/f", "d/g", "d/l"), new ArrayList<>(snap.keySet()));
            assertEquals("dir 755 0:0", snap.get("d"));
            assertEquals("file 600 0:0 links 2 size 3 sha256 98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4 xattrs {k=v}", snap.get("d/f"));
            assertEquals(snap.get("d/f"), snap.get("d/g"));
            assertEquals("symlink -> f 0:0", snap.get("d/l"));
            SortedMap<String, String> other = new java.util.TreeMap<>(snap);
            other.remove("d/l");
            other.put("d/f", "changed");
            String diff = SitesFixture.difference("A", snap, "X", other);
            assertNotNull(diff);
            assertTrue(diff.startsWith("2 paths differ: d/f: at A file 600") && diff.contains("d/l: at A symlink -> f 0:0, at X (absent)"), diff);
            assertNull(SitesFixture.difference("A", snap, "X", snap));
            AssertionError e = assertThrows(AssertionError.class, () -> SitesFixture.await("never", 200, 50, () -> "still " + Map.of("x", 1)));
            assertTrue(e.getMessage().contains("last difference: still {x=1}"), e.getMessage());
        }
    }
}
