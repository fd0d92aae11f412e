/**
 * The volume's operating figures: counters, rates and latency histograms that every layer records
 * into ({@link io.stratafs.metrics.VolumeMetrics}), and their Prometheus view
 * ({@link io.stratafs.metrics.MetricsEndpoint}). The counters are plain Java and depend on no other
 * package, so any layer may record into them; only {@code MetricsEndpoint} knows the Prometheus library.
 */
package io.stratafs.metrics;
