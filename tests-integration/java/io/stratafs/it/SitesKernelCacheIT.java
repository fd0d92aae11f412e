package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A peer's change reaches a mount whose kernel caches names and attributes for an hour
 * ({@code -o attr_timeout=3600,entry_timeout=3600} at B): the sync daemon tells B's kernel what the
 * change made stale, so B shows it within the usual propagation delay. Without that announcement B
 * would show what it had cached until the hour is over, so the 30 s the test allows prove it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SitesKernelCacheIT {
    private static final long DEADLINE_MILLIS = 30_000;

    private SitesFixture sites;
    private SitesFixture.Site a;
    private SitesFixture.Site b;

    @BeforeAll
    void mountTwoSites() throws Exception {
        sites = SitesFixture.mounted(s -> {
            a = s.addDirSite("A");
            b = s.addDirSite("B");
            b.fs.withMountArgs("-o", "attr_timeout=3600,entry_timeout=3600");
        });
    }

    @AfterAll
    void unmountAll() {
        if (sites != null) {
            sites.close();
        }
    }

    @Test
    void aPeersChmodWriteRenameAndDeleteShowAtOnceThoughTheKernelCachesForAnHour() {
        a.sh("mkdir k && printf one > k/f && printf x > k/old && printf y > k/doomed && mkdir k/dir");
        sites.awaitConverged("k");
        // B's kernel now holds every name and its attributes, trusted for an hour
        assertEquals("644 3 one\n", b.sh("stat -c '%a %s ' k/f | tr -d '\\n'; cat k/f; echo; stat -c %n k/old k/doomed k/dir >/dev/null"));

        a.sh("chmod 600 k/f && printf 'two, longer' > k/f && mv k/old k/new && rm k/doomed && mv k/dir k/moved");

        SitesFixture.await("B shows A's chmod, new content, renames and delete", DEADLINE_MILLIS, 50, () -> {
            String seen = shAtB("stat -c '%a %s ' k/f | tr -d '\\n'; cat k/f; echo;"
                    + " for n in old new doomed dir moved; do if [ -e k/$n ]; then echo \"$n here\"; else echo \"$n gone\"; fi; done");
            String want = "600 11 two, longer\nold gone\nnew here\ndoomed gone\ndir gone\nmoved here\n";
            return seen.equals(want) ? null : "B shows:\n" + seen;
        });
        sites.awaitConverged("k");
    }

    /**
     * B's kernel keeps a file's pages across opens (keep_cache): a peer's rewrite of the same size
     * changes neither the size nor, within a second, anything else a stale page would betray, so only
     * the announcement that drops B's pages makes B read the new bytes.
     */
    @Test
    void aPeersSameSizeRewriteOfAFileBHasReadShowsAtOnce() {
        a.sh("mkdir -p p && printf abcd > p/same");
        sites.awaitConverged("p");
        assertEquals("abcdabcd", b.sh("cat p/same; cat p/same"), "read twice at B: its pages cached and kept");
        a.sh("printf WXYZ > p/same");
        SitesFixture.await("B reads A's same-size rewrite", DEADLINE_MILLIS, 50, () -> {
            String seen = shAtB("cat p/same");
            return seen.equals("WXYZ") ? null : "B reads: " + seen;
        });
        sites.awaitConverged("p");
    }

    /**
     * Counts the kernel keeps in its attribute cache: a peer's hard link (the file's link count), a
     * subdirectory made and a name added inside a directory B has stat'ed (the directory's link count
     * and a name B looked up and found missing), then the link removed again.
     */
    @Test
    void aPeersLinkAndMkdirShowInCountsBHasCached() {
        a.sh("mkdir -p c && printf z > c/f");
        sites.awaitConverged("c");
        assertEquals("1 2 missing\n", b.sh("stat -c '%h ' c/f | tr -d '\\n'; stat -c '%h ' c | tr -d '\\n';"
                + " if [ -e c/g ]; then echo here; else echo missing; fi"));

        a.sh("ln c/f c/g && mkdir c/sub");
        SitesFixture.await("B counts A's link and subdirectory", DEADLINE_MILLIS, 50, () -> {
            String seen = shAtB("stat -c '%h' c/f c/g c");
            return seen.equals("2\n2\n3\n") ? null : "B shows:\n" + seen;
        });

        a.sh("rm c/g");
        SitesFixture.await("B counts the link's removal", DEADLINE_MILLIS, 50, () -> {
            String seen = shAtB("stat -c '%h' c/f; if [ -e c/g ]; then echo here; else echo gone; fi");
            return seen.equals("1\ngone\n") ? null : "B shows:\n" + seen;
        });
        sites.awaitConverged("c");
    }

    /** Runs a script at B and returns its output; a failing script returns its output too (a file may be mid-change). */
    private String shAtB(String script) {
        return Shell.run(b.mnt(), 60, java.util.List.of("bash", "-c", script)).out();
    }
}
