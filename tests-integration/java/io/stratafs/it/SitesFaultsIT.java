package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Three real mounts on one machine, site A and B in directories and C in a bucket on an S3Proxy
 * server of its own: changes from every site converge; C's server stopped and restarted while
 * everyone edits; B killed with kill -9 while it applies A's changes, then mounted again; B
 * unmounted while A and C create, change, rename and delete, then mounted again. Each test leaves
 * the three sites mounted and converged, and works in a directory of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SitesFaultsIT {
    private SitesFixture sites;
    private SitesFixture.Site a;
    private SitesFixture.Site b;
    private SitesFixture.Site c;

    @BeforeAll
    void mountThreeSites() throws Exception {
        sites = SitesFixture.mounted(s -> {
            a = s.addDirSite("A");
            b = s.addDirSite("B");
            c = s.addS3Site("C");
        });
    }

    /**
     * Each test compares its own directory; here the three sites must also agree as a whole: the
     * same tree everywhere and, from their status, the same digest and nothing behind.
     */
    @AfterAll
    void convergedAsAWholeThenUnmountAll() {
        if (sites != null) {
            try {
                sites.awaitConverged();
            } finally {
                sites.close();
            }
        }
    }

    private static long entries(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.count();
        } catch (IOException e) {
            return 0;
        }
    }

    @Test
    void changesFromEachOfThreeSitesConverge() throws Exception {
        a.sh("mkdir three && echo from-a > three/a && head -c 5000000 /dev/urandom > three/big-from-a");
        sites.awaitConverged("three");
        b.sh("echo from-b > three/b && mv three/a three/a-renamed-at-b");
        c.sh("echo from-c > three/c && chmod 600 three/big-from-a");
        long took = sites.awaitConverged("three");
        System.out.printf("SitesFaultsIT: three sites (dir, dir, S3) converged %d ms after the last change%n", took);
        for (SitesFixture.Site s : sites.sites()) {
            assertEquals("from-a\nfrom-b\nfrom-c\n", s.sh("cat three/a-renamed-at-b three/b three/c"), s.toString());
            assertEquals("600", s.sh("stat -c %a three/big-from-a").strip(), s.toString());
        }
    }

    /** The propagation figure to and from the S3 site: 20 single-file creates A -> C and 20 C -> B, printed as p50/p99. */
    @Test
    void delayOfSingleFileCreatesToAndFromTheS3Site() throws Exception {
        a.sh("mkdir -p delay-s3/to-c delay-s3/from-c");
        sites.awaitConverged("delay-s3");
        List<Long> toC = SitesFixture.createDelays(a, c, "delay-s3/to-c", 20);
        List<Long> fromC = SitesFixture.createDelays(c, b, "delay-s3/from-c", 20);
        System.out.printf("SitesFaultsIT propagation, 20 single-file creates each: A (dir) -> C (S3) p50 %d ms, p99 %d ms;"
                + " C (S3) -> B (dir) p50 %d ms, p99 %d ms%n", SitesFixture.percentile(toC, 50), SitesFixture.percentile(toC, 99),
                SitesFixture.percentile(fromC, 50), SitesFixture.percentile(fromC, 99));
        sites.awaitConverged("delay-s3");
    }

    /**
     * C's server down: A and B go on serving and exchanging; C serves from its cache and takes
     * writes; when the server returns, C's changes reach A and B and theirs reach C.
     */
    @Test
    void anS3PeersServerStoppedAndRestartedCatchesUpBothWays() throws Exception {
        a.sh("mkdir s3down && echo before > s3down/before");
        sites.awaitConverged("s3down");
        c.stopStorage();
        try {
            a.sh("echo from-a > s3down/a && head -c 3000000 /dev/urandom > s3down/big-a");
            b.sh("echo from-b > s3down/b && rm s3down/before");
            sites.awaitConverged(List.of(a, b), "s3down");
            c.sh("echo from-c > s3down/c && test \"$(ls s3down | grep -c .)\" -ge 2");
        } finally {
            c.restartStorage();
        }
        sites.awaitConverged("s3down");
        for (SitesFixture.Site s : sites.sites()) {
            assertEquals("from-a\nfrom-b\nfrom-c\n", s.sh("cat s3down/a s3down/b s3down/c"), s.toString());
            assertFalse(Files.exists(s.path("s3down/before")), s + ": the delete made while C was cut off holds");
        }
    }

    /**
     * kill -9 of B as soon as A's stream of changes starts showing at B, while A is still writing
     * (so B dies with A's operations being read, applied and their blocks copied), then B mounted
     * again: everything A wrote is at B with its content, and the three sites converge. Prints how
     * much of the stream B showed at the kill.
     */
    @Test
    void aSiteKilledWhileApplyingAPeersChangesConvergesAfterRemount() throws Exception {
        int files = 200;
        int big = 6;
        Path sums = sites.root.resolve("kill.sums");
        String writer = "mkdir kill && for i in $(seq 1 " + files + "); do echo \"small $i\" > kill/s$i; done"
                + " && for i in $(seq 1 " + big + "); do head -c 2500000 /dev/urandom > kill/big$i; done"
                + " && (cd kill && sha256sum * > " + sums + ")";
        Path atB = b.path("kill");
        long shown;
        try (Shell.Background a2 = Shell.background(a.mnt(), sites.root.resolve("kill-writer.log"), List.of("bash", "-euo", "pipefail", "-c", writer))) {
            SitesFixture.await("A's changes start showing at B", SitesFixture.DEADLINE_MILLIS, 5,
                    () -> entries(atB) > 0 ? null : "kill/ is empty at B; A's writer: " + a2.output());
            shown = entries(atB);
            boolean aStillWriting = a2.isAlive();
            b.kill9();
            System.out.printf("SitesFaultsIT: B killed with kill -9 when it showed %d of the %d entries A made; A was %s%n", shown,
                    files + big, aStillWriting ? "still writing" : "done writing");
            assertTrue(a2.waitFor(120, TimeUnit.SECONDS), "A's writer did not finish: " + a2.output());
            assertEquals(0, a2.exitValue(), "A's writer failed: " + a2.output());
        }
        b.mountAfterKill();
        sites.awaitConverged("kill");
        b.sh("cd kill && sha256sum --quiet -c " + sums + " && test $(ls | wc -l) = " + (files + big));
    }

    /**
     * B unmounted while A and C create, change, rename and delete; mounted again, B catches up:
     * new files appear, deleted ones stay deleted (B's own old copy of them does not bring them back),
     * renamed ones appear under their new names only.
     */
    @Test
    void aSiteUnmountedWhileOthersEditCatchesUpWhenMountedAgain() throws Exception {
        a.sh("mkdir -p off/dir && for f in keep del ren chg; do echo $f > off/$f; done && echo x > off/dir/x");
        sites.awaitConverged("off");
        b.umount();
        try {
            a.sh("echo new-a > off/new-a && rm off/del && mv off/ren off/renamed && echo changed >> off/chg");
            c.sh("echo new-c > off/new-c && rm -r off/dir && mkdir off/made-at-c");
            sites.awaitConverged(List.of(a, c), "off");
        } finally {
            b.mount();
        }
        sites.awaitConverged("off");
        assertEquals("chg\nkeep\nmade-at-c\nnew-a\nnew-c\nrenamed\n", b.sh("ls off"));
        assertEquals("chg\nchanged\nkeep\nren\nnew-a\nnew-c\n", b.sh("cat off/chg off/keep off/renamed off/new-a off/new-c"));
        assertTrue(Files.isDirectory(b.path("off/made-at-c")));
    }

    /**
     * A site without a mount: G runs {@code stratafs sync} (a gateway or backup site) while A writes.
     * G applies A's operation and copies its block into G's own storage; with the daemon stopped, A
     * unmounted and A's storage moved away for good, G's storage mounted at G serves the file with
     * its content: a site reads every file from its own storage even when the peer is gone. (Its own
     * two sites: the shared three stay as they are.)
     */
    @Test
    void aSyncDaemonWithoutAMountKeepsEveryFileInItsOwnStorage() throws Exception {
        try (SitesFixture two = new SitesFixture()) {
            SitesFixture.Site writer = two.addDirSite("A").mount();
            SitesFixture.Site gateway = two.addDirSite("G");
            byte[] content = new byte[300_000];
            new Random(3).nextBytes(content);
            Files.write(two.root.resolve("content"), content);
            String hex = SitesFixture.sha256(two.root.resolve("content"));
            Path block = Path.of(gateway.fs.storage).resolve("blocks/" + hex.substring(0, 2) + "/" + hex);
            try (Shell.Background sync = gateway.startSync()) {
                Files.write(writer.path("kept"), content);
                SitesFixture.await("G's sync daemon copied the block of A's file into G's storage",
                        () -> Files.exists(block) ? null : block + " is not there yet; sync said: " + sync.output());
                assertEquals(0, gateway.stopSync(sync), "stratafs sync exit status after SIGTERM: " + sync.output());
            }
            writer.umount();
            Files.move(Path.of(writer.fs.storage), writer.fs.root.resolve("storage-lost"));
            gateway.mount();
            assertArrayEquals(content, Files.readAllBytes(gateway.path("kept")), "G serves A's file from G's own storage");
        }
    }
}
