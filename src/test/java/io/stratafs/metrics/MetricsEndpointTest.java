package io.stratafs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
    private final VolumeMetrics metrics = new VolumeMetrics();
    private final VolumeGauges gauges = new VolumeGauges(5000, 10_000, 2000, 3, 4, 7, 12.5,
            List.of(new VolumeGauges.Target("file:///srv/a", true, 4, 7), new VolumeGauges.Target("s3://b/p", false, 0, 0)));

    private static String scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aScrapeCarriesEveryFamilyWithItsTypeAndValues() throws Exception {
        metrics.uploads().add(4096);
        metrics.downloads().add(100);
        metrics.cacheRead(VolumeMetrics.ReadTier.RAM);
        metrics.cacheFillDropped();
        metrics.error(ErrorKind.EIO);
        metrics.fuseOperation("getattr").observeNanos(30_000);
        metrics.storeRequest("put", "file:///srv/a").observeNanos(2_000_000);
        metrics.fuseReaderFrom(() -> new VolumeMetrics.FuseReader(40, 3, 2, 9));
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(new MetricsAddress("127.0.0.1", freePort()), metrics, () -> gauges)) {
            String text = scrape(endpoint.port());
            for (String line : new String[] {
                "# TYPE stratafs_cache_bytes gauge", "stratafs_cache_bytes 5000.0",
                "stratafs_cache_capacity_bytes 10000.0", "stratafs_dirty_bytes 2000.0", "stratafs_dirty_blocks 3.0",
                "stratafs_upload_backlog_blocks 4.0", "stratafs_upload_backlog_journal_records 7.0",
                "stratafs_oldest_pending_change_age_seconds 12.5",
                "stratafs_target_healthy{target=\"file:///srv/a\"} 1.0", "stratafs_target_healthy{target=\"s3://b/p\"} 0.0",
                "# TYPE stratafs_uploaded_bytes_total counter", "stratafs_uploaded_bytes_total 4096.0",
                "stratafs_downloaded_bytes_total 100.0",
                "stratafs_cache_reads_total{tier=\"ram\"} 1.0", "stratafs_cache_reads_total{tier=\"target\"} 0.0",
                "# TYPE stratafs_cache_fills_dropped_total counter", "stratafs_cache_fills_dropped_total 1.0",
                "# TYPE stratafs_errors_total counter", "stratafs_errors_total{kind=\"eio\"} 1.0",
                "stratafs_errors_total{kind=\"target_unavailable\"} 0.0",
                "# TYPE stratafs_fuse_reader_requests_total counter", "stratafs_fuse_reader_requests_total{how=\"kept\"} 40.0",
                "stratafs_fuse_reader_requests_total{how=\"handed_on\"} 3.0", "stratafs_fuse_reader_reliefs_total 2.0",
                "stratafs_fuse_reader_sleeps_total 9.0",
                "# TYPE stratafs_fuse_operation_seconds histogram",
                "stratafs_fuse_operation_seconds_bucket{op=\"getattr\",le=\"2.5E-5\"} 0",
                "stratafs_fuse_operation_seconds_bucket{op=\"getattr\",le=\"5.0E-5\"} 1",
                "stratafs_fuse_operation_seconds_bucket{op=\"getattr\",le=\"+Inf\"} 1",
                "stratafs_fuse_operation_seconds_count{op=\"getattr\"} 1",
                "# TYPE stratafs_object_store_request_seconds histogram",
                "stratafs_object_store_request_seconds_count{op=\"put\",target=\"file:///srv/a\"} 1"}) {
                assertTrue(text.lines().anyMatch(l -> l.equals(line)), "no line \"" + line + "\" in:\n" + text);
            }
        }
    }

    @Test
    void aPortInUseFailsWithASentenceNamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            MetricsAddress address = new MetricsAddress("127.0.0.1", taken.getLocalPort());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> MetricsEndpoint.start(address, metrics, () -> gauges));
            assertTrue(e.getMessage().startsWith("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("choose another for --metrics"), e.getMessage());
        }
    }
}
