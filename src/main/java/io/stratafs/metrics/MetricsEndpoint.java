package io.stratafs.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link VolumeMetrics} and {@link VolumeGauges} as Prometheus metrics over HTTP at
 * {@code /metrics}, through the Prometheus Java client's exporter and data model: the only code
 * that knows that library. One scrape reads the gauges once (they scan the upload queue) and turns
 * every counter into a snapshot, so scrapes cost nothing between them. The endpoint has no
 * authentication: bind it to loopback unless the network in front of it is trusted.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);
    private final HTTPServer server;

    private MetricsEndpoint(HTTPServer server) {
        this.server = server;
    }

    /** Starts serving; fails with a sentence when the address is in use or cannot be bound. */
    public static MetricsEndpoint start(MetricsAddress address, VolumeMetrics metrics, Supplier<VolumeGauges> gauges) {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new Collector(metrics, gauges));
        try {
            InetAddress bind = InetAddress.getByName(address.host());
            if (!bind.isLoopbackAddress()) {
                LOG.warn("metrics at {} are reachable from the network without authentication", address);
            }
            HTTPServer server = HTTPServer.builder()
                    .inetAddress(bind)
                    .port(address.port())
                    .registry(registry)
                    .buildAndStart();
            return new MetricsEndpoint(server);
        } catch (BindException e) {
            throw new IllegalStateException("cannot serve metrics on " + address + ": " + e.getMessage()
                    + " (is the port in use? choose another for --metrics)", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serve metrics on " + address + ": " + e, e);
        }
    }

    /** The port served (useful when the address asked for port 0 in tests). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }

    /** Builds the snapshots of one scrape. */
    static final class Collector implements MultiCollector {
        private final VolumeMetrics metrics;
        private final Supplier<VolumeGauges> gauges;

        Collector(VolumeMetrics metrics, Supplier<VolumeGauges> gauges) {
            this.metrics = metrics;
            this.gauges = gauges;
        }

        @Override
        public MetricSnapshots collect() {
            VolumeGauges g = gauges.get();
            MetricSnapshots.Builder out = MetricSnapshots.builder()
                    .metricSnapshot(gauge("stratafs_cache_bytes", "Bytes of blocks in the local cache (clean and dirty).", g.cacheBytes()))
                    .metricSnapshot(gauge("stratafs_cache_capacity_bytes", "The bound of the local cache (--cache-size).",
                            g.cacheCapacityBytes()))
                    .metricSnapshot(gauge("stratafs_dirty_bytes", "Bytes of blocks not yet in every storage target.", g.dirtyBytes()))
                    .metricSnapshot(gauge("stratafs_dirty_blocks", "Blocks not yet in every storage target.", g.dirtyBlocks()))
                    .metricSnapshot(gauge("stratafs_upload_backlog_blocks", "Blocks still to upload to the target furthest behind.",
                            g.uploadBacklogBlocks()))
                    .metricSnapshot(gauge("stratafs_upload_backlog_journal_records",
                            "Journal records still to upload to the target furthest behind.", g.uploadBacklogJournalRecords()))
                    .metricSnapshot(gauge("stratafs_oldest_pending_change_age_seconds",
                            "Age of the oldest change not yet in every storage target (0 when none).",
                            g.oldestPendingChangeAgeSeconds()))
                    .metricSnapshot(targetHealth(g))
                    .metricSnapshot(counter("stratafs_uploaded_bytes", "Bytes sent to storage targets since mount.",
                            metrics.uploads().total()))
                    .metricSnapshot(counter("stratafs_downloaded_bytes", "Bytes read from storage targets since mount.",
                            metrics.downloads().total()))
                    .metricSnapshot(cacheReads())
                    .metricSnapshot(counter("stratafs_cache_fills_dropped",
                            "Blocks fetched from a target and not kept in the local cache because its fill queue was full (fetched again when read again).",
                            metrics.cacheFillsDropped()))
                    .metricSnapshot(errors());
            VolumeMetrics.FuseReader r = metrics.fuseReader();
            out.metricSnapshot(fuseReaderRequests(r))
                    .metricSnapshot(counter("stratafs_fuse_reader_reliefs",
                            "Times one request kept the polling reader over 1 ms and another thread took over reading /dev/fuse.",
                            r.relieved()))
                    .metricSnapshot(counter("stratafs_fuse_reader_sleeps",
                            "Times the polling reader found no request within -o spin_us and slept in the kernel.", r.sleeps()));
            out.metricSnapshot(fuseOperations());
            out.metricSnapshot(storeRequests());
            return out.build();
        }

        private static GaugeSnapshot gauge(String name, String help, double value) {
            return GaugeSnapshot.builder().name(name).help(help)
                    .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build();
        }

        private static CounterSnapshot counter(String name, String help, double value) {
            return CounterSnapshot.builder().name(name).help(help)
                    .dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build();
        }

        private static GaugeSnapshot targetHealth(VolumeGauges g) {
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name("stratafs_target_healthy")
                    .help("1 when the storage target answered its last request, 0 when it failed or uploads to it stopped.");
            for (VolumeGauges.Target t : g.targets()) {
                b.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("target", t.target())).value(t.healthy() ? 1 : 0).build());
            }
            return b.build();
        }

        private CounterSnapshot cacheReads() {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name("stratafs_cache_reads")
                    .help("Block reads by callers, by the tier that served them (ram, local cache, or fetched from a target).");
            for (VolumeMetrics.ReadTier tier : VolumeMetrics.ReadTier.values()) {
                b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("tier", tier.label()))
                        .value(metrics.cacheReads(tier)).build());
            }
            return b.build();
        }

        private static CounterSnapshot fuseReaderRequests(VolumeMetrics.FuseReader r) {
            return CounterSnapshot.builder().name("stratafs_fuse_reader_requests")
                    .help("FUSE requests read by the polling reader: served by it (kept) or handed on with the reader's part (handed_on).")
                    .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("how", "kept")).value(r.kept()).build())
                    .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("how", "handed_on")).value(r.handedOn()).build())
                    .build();
        }

        private CounterSnapshot errors() {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name("stratafs_errors")
                    .help("Errors since mount, by kind.");
            for (ErrorKind kind : ErrorKind.values()) {
                b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("kind", kind.label()))
                        .value(metrics.errors(kind)).build());
            }
            return b.build();
        }

        private HistogramSnapshot fuseOperations() {
            HistogramSnapshot.Builder b = HistogramSnapshot.builder().name("stratafs_fuse_operation_seconds")
                    .help("Time spent in each FUSE callback, by operation.");
            for (Map.Entry<String, LatencyHistogram> e : metrics.fuseOperations().entrySet()) {
                b.dataPoint(histogram(Labels.of("op", e.getKey()), e.getValue()));
            }
            return b.build();
        }

        private HistogramSnapshot storeRequests() {
            HistogramSnapshot.Builder b = HistogramSnapshot.builder().name("stratafs_object_store_request_seconds")
                    .help("Time of each storage request, by operation and target (failed requests included).");
            for (Map.Entry<VolumeMetrics.StoreRequest, LatencyHistogram> e : metrics.storeRequests().entrySet()) {
                b.dataPoint(histogram(Labels.of("op", e.getKey().op(), "target", e.getKey().target()), e.getValue()));
            }
            return b.build();
        }

        private static HistogramDataPointSnapshot histogram(Labels labels, LatencyHistogram h) {
            double[] bounds = new double[LatencyHistogram.BOUNDS.length + 1];
            System.arraycopy(LatencyHistogram.BOUNDS, 0, bounds, 0, LatencyHistogram.BOUNDS.length);
            bounds[bounds.length - 1] = Double.POSITIVE_INFINITY;
            return HistogramDataPointSnapshot.builder().labels(labels)
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, h.bucketCounts()))
                    .sum(h.sumSeconds()).build();
        }
    }
}
