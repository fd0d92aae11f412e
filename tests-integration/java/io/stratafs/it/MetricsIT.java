package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code mount --metrics}: a real mount serves Prometheus metrics on a loopback port, whose values
 * move with real IO through real tools, and {@code status --json} carries the same counters; an
 * address in use or malformed fails the mount in one line and leaves nothing mounted.
 */
class MetricsIT {
    private static final long MIB = 1 << 20;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /** The value of the sample whose name and labels are exactly {@code series}. */
    private static double sample(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), "no sample " + series + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    /** A number in the status JSON, decimals included (MountFixture.statusField reads integers). */
    private static double statusNumber(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(-?[0-9.Ee+-]+)").matcher(json);
        assertTrue(m.find(), "status has no number " + name + ": " + json);
        return Double.parseDouble(m.group(1));
    }

    private static void awaitUploaded(MountFixture fs) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
            assertTrue(System.nanoTime() < deadline, "uploads did not finish within 60 s: " + fs.statusJson());
            Thread.sleep(100);
        }
    }

    @Test
    void realIoMovesTheScrapedFiguresAndStatusCarriesTheSameCounters() throws Exception {
        int port = freePort();
        try (MountFixture fs = new MountFixture()) {
            fs.withMountArgs("--metrics", "127.0.0.1:" + port).format().mount();
            String before = scrape(port);
            double uploadedBefore = sample(before, "stratafs_uploaded_bytes_total");

            fs.sh("dd if=/dev/urandom of=big bs=1M count=8 status=none && cp big copy && mkdir d && "
                    + "for i in $(seq 1 50); do echo $i > d/f$i; done && ls -l d > /dev/null && stat d/f1 > /dev/null");
            awaitUploaded(fs);
            String written = scrape(port);
            // a family shows once it has a sample: histograms once an operation or request ran
            for (String type : new String[] {
                "# TYPE stratafs_cache_bytes gauge", "# TYPE stratafs_cache_capacity_bytes gauge", "# TYPE stratafs_dirty_bytes gauge",
                "# TYPE stratafs_upload_backlog_blocks gauge", "# TYPE stratafs_upload_backlog_journal_records gauge",
                "# TYPE stratafs_oldest_pending_change_age_seconds gauge", "# TYPE stratafs_target_healthy gauge",
                "# TYPE stratafs_uploaded_bytes_total counter", "# TYPE stratafs_downloaded_bytes_total counter",
                "# TYPE stratafs_cache_reads_total counter", "# TYPE stratafs_errors_total counter",
                "# TYPE stratafs_fuse_operation_seconds histogram", "# TYPE stratafs_object_store_request_seconds histogram"}) {
                assertTrue(written.lines().anyMatch(type::equals), "no \"" + type + "\" in:\n" + written);
            }
            assertTrue(sample(written, "stratafs_uploaded_bytes_total") - uploadedBefore >= 8 * MIB,
                    "8 MiB of distinct data went up:\n" + written);
            assertTrue(sample(written, "stratafs_fuse_operation_seconds_count{op=\"write\"}") >= 64, "8 MiB in 128 KiB writes");
            assertTrue(sample(written, "stratafs_fuse_operation_seconds_count{op=\"create\"}") >= 52);
            assertTrue(sample(written, "stratafs_fuse_operation_seconds_count{op=\"getattr\"}") > 0);
            String target = "file://" + fs.storage;
            assertTrue(sample(written, "stratafs_object_store_request_seconds_count{op=\"put\",target=\"" + target + "\"}") >= 2,
                    "blocks were put to " + target + ":\n" + written);
            assertTrue(sample(written, "stratafs_cache_bytes") >= 8 * MIB);
            assertEquals(1.0, sample(written, "stratafs_target_healthy{target=\"" + target + "\"}"));
            assertEquals(0.0, sample(written, "stratafs_upload_backlog_blocks"));
            assertEquals(0.0, sample(written, "stratafs_oldest_pending_change_age_seconds"), "nothing is pending after the uploads");

            // a new machine: every block read comes from the target once, then from RAM
            fs.remountWithEmptyCache();
            fs.sh("cat big > /dev/null && cat big > /dev/null && cmp big copy");
            String read = scrape(port);
            assertTrue(sample(read, "stratafs_downloaded_bytes_total") >= 8 * MIB, read);
            assertTrue(sample(read, "stratafs_cache_reads_total{tier=\"target\"}") >= 1, read);
            assertTrue(sample(read, "stratafs_cache_reads_total{tier=\"ram\"}") >= 2, read);
            assertEquals(0.0, sample(read, "stratafs_errors_total{kind=\"eio\"}"));

            String json = fs.statusJson();
            assertEquals(sample(read, "stratafs_cache_reads_total{tier=\"target\"}"), statusNumber(json, "cacheReadsFetched"),
                    "status and metrics read the same counters");
            double ratio = statusNumber(json, "cacheHitRatio");
            assertTrue(ratio > 0 && ratio < 1, "some reads were fetched and some hit RAM: " + json);
            assertTrue(statusNumber(json, "downloadedBytesTotal") >= 8 * MIB, json);
            assertTrue(statusNumber(json, "uploadBytesPerSecond") >= 0 && statusNumber(json, "oldestPendingChangeAgeSeconds") >= 0, json);
            for (String kind : new String[] {"target_unavailable", "corrupt_object", "corrupt_cache_block", "cache_full", "eio",
                "commit_failed"}) {
                assertTrue(json.contains("\"" + kind + "\":0"), "status counts no " + kind + ": " + json);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (statusNumber(fs.statusJson(), "downloadBytesPerSecond") == 0) {
                assertTrue(System.nanoTime() < deadline, "the download rate never showed the 8 MiB just read: " + fs.statusJson());
                Thread.sleep(100);
            }
            String human = fs.runOk("status", fs.mnt.toString());
            assertTrue(human.contains("errors") && human.contains("eio=0"), human);
            assertTrue(human.contains("cacheHitRatio"), human);
        }
    }

    /**
     * A file opened only for reading is closed without a flush request (FOPEN_NOFLUSH): the flush
     * would commit and report nothing, and cost the closing process a round trip. A writing open
     * is still flushed at close, where write errors are reported.
     */
    @Test
    void closingAFileOpenedOnlyForReadingSendsNoFlush() throws Exception {
        int port = freePort();
        try (MountFixture fs = new MountFixture()) {
            fs.withMountArgs("--metrics", "127.0.0.1:" + port).format().mount();
            Path f = fs.mnt.resolve("read-only");
            byte[] data = "closed without a flush\n".getBytes(StandardCharsets.UTF_8);
            Files.write(f, data);
            assertArrayEquals(data, Files.readAllBytes(f)); // a first open, so its count shows
            String flushes = "stratafs_fuse_operation_seconds_count{op=\"flush\"}";
            String opens = "stratafs_fuse_operation_seconds_count{op=\"open\"}";
            double before = awaitAtLeast(port, flushes, 1);
            double opensBefore = awaitAtLeast(port, opens, 1);
            for (int i = 0; i < 50; i++) {
                try (InputStream in = Files.newInputStream(f)) {
                    assertArrayEquals(data, in.readAllBytes());
                }
            }
            try (OutputStream out = Files.newOutputStream(f, StandardOpenOption.APPEND)) {
                out.write('!');
            }
            double after = awaitAtLeast(port, flushes, before + 1);
            String text = scrape(port);
            assertEquals(before + 1, after, "only the writing open's close was flushed");
            assertTrue(sample(text, opens) >= opensBefore + 51, "every open reached the daemon: " + text);
            assertTrue(sample(text, "stratafs_fuse_reader_requests_total{how=\"kept\"}") >= sample(text, opens),
                    "the polling reader served every open itself: " + text);
            assertEquals(data.length + 1, Files.size(f));
        }
    }

    /**
     * The root's attributes are cached like any inode's: with {@code default_permissions} the kernel
     * checks the root on every path walk, and a root that was never cached cost a getattr round trip
     * on every stat, open and unlink below it. Repeated stats of the root and of a file in a
     * directory send nothing; a statfs (what the systemd watchdog probes with) always reaches us.
     */
    @Test
    void repeatedStatsOfCachedPathsSendNoRequestAndStatfsAlwaysArrives() throws Exception {
        int port = freePort();
        try (MountFixture fs = new MountFixture()) {
            fs.withMountArgs("--metrics", "127.0.0.1:" + port).format().mount();
            Path dir = Files.createDirectory(fs.mnt.resolve("d"));
            Path f = Files.writeString(dir.resolve("f"), "cached");
            Files.readAttributes(f, BasicFileAttributes.class);
            Files.readAttributes(fs.mnt, BasicFileAttributes.class);
            String getattrs = "stratafs_fuse_operation_seconds_count{op=\"getattr\"}";
            String lookups = "stratafs_fuse_operation_seconds_count{op=\"lookup\"}";
            String statfs = "stratafs_fuse_operation_seconds_count{op=\"statfs\"}";
            fs.mnt.getFileSystem().provider().getFileStore(fs.mnt).getTotalSpace();
            double statfsBefore = awaitAtLeast(port, statfs, 1);
            String before = scrape(port);
            for (int i = 0; i < 50; i++) {
                assertEquals(6, Files.readAttributes(f, BasicFileAttributes.class).size());
                assertTrue(Files.isDirectory(fs.mnt));
            }
            fs.mnt.getFileSystem().provider().getFileStore(fs.mnt).getTotalSpace();
            awaitAtLeast(port, statfs, statfsBefore + 1);
            String after = scrape(port);
            assertEquals(sample(before, getattrs), sample(after, getattrs), "100 stats of cached paths sent getattr requests");
            assertEquals(sample(before, lookups), sample(after, lookups), "100 stats of cached paths sent lookup requests");
        }
    }

    /** Scrapes until {@code series} reaches {@code min} (a request's figure is counted just after its reply). */
    private static double awaitAtLeast(int port, String series, double min) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            double v = sample(scrape(port), series);
            if (v >= min) {
                return v;
            }
            assertTrue(System.nanoTime() < deadline, series + " stayed at " + v + ", below " + min);
            Thread.sleep(10);
        }
    }

    @Test
    void aMetricsPortInUseFailsTheMountInOneLineAndLeavesNothingMounted() throws Exception {
        try (MountFixture fs = new MountFixture();
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            fs.format();
            String address = "127.0.0.1:" + taken.getLocalPort();
            Shell.Split r = MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString(),
                    "--metrics", address);
            CliIT.oneLineFailure(r, "cannot serve metrics on " + address);
            assertFalse(fs.isMounted());
            assertTrue(fs.daemons().isEmpty(), "a failed mount left a daemon running");
        }
    }

    @Test
    void aMalformedAddressIsRefusedBeforeAnythingStarts() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format();
            for (String bad : new String[] {"9567", "127.0.0.1:port", "127.0.0.1:70000"}) {
                Shell.Split r = MountFixture.cliSplit("mount", fs.storage, fs.mnt.toString(), "--cache-dir", fs.cache.toString(),
                        "--metrics", bad);
                CliIT.oneLineFailure(r, "--metrics");
                assertFalse(fs.isMounted());
                assertTrue(fs.daemons().isEmpty());
            }
        }
    }
}
