package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench workloads on a temporary directory: what each reports, what they leave, how a cancel stops them. */
class BenchmarkTest {
    private static List<String> left(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(Path::toString).toList();
        }
    }

    @Test
    void everyWorkloadReportsItsCountAndLeavesNothing(@TempDir Path dir) throws IOException {
        List<String> seen = new ArrayList<>();
        Benchmark bench = new Benchmark(dir, 3 * (1 << 20) + 5, 80, (label, done, total) -> {
            assertTrue(done <= total, label + ": " + done + " of " + total);
            if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(label)) {
                seen.add(label);
            }
        });
        List<Benchmark.Result> results = bench.run();
        assertEquals(List.of("sequential-write", "sequential-read", "create", "stat", "read", "delete", "unpack-tree", "remove-tree"),
                results.stream().map(Benchmark.Result::workload).toList());
        assertEquals(results.stream().map(Benchmark.Result::label).toList(), seen, "progress is told of each workload in order");
        assertEquals((3 * (1 << 20) + 5) / (double) (1 << 20), results.get(0).count(), 1e-9);
        for (Benchmark.Result r : results.subList(2, results.size())) {
            assertEquals(80, r.count(), r.workload());
        }
        assertTrue(results.stream().allMatch(r -> r.seconds() > 0 && r.rate() > 0), results.toString());
        assertEquals(List.of(), left(dir));
    }

    @Test
    void zeroSizeAndZeroFilesSkipTheirWorkloads(@TempDir Path dir) throws IOException {
        assertEquals(List.of("create", "stat", "read", "delete", "unpack-tree", "remove-tree"),
                new Benchmark(dir, 0, 3, (l, d, t) -> { }).run().stream().map(Benchmark.Result::workload).toList());
        assertEquals(List.of("sequential-write", "sequential-read"),
                new Benchmark(dir, 4096, 0, (l, d, t) -> { }).run().stream().map(Benchmark.Result::workload).toList());
        assertEquals(List.of(), left(dir));
    }

    @Test
    void aCancelStopsTheRunningWorkloadAtItsNextFile(@TempDir Path dir) {
        AtomicReference<Benchmark> self = new AtomicReference<>();
        List<Long> creates = new ArrayList<>();
        Benchmark bench = new Benchmark(dir, 0, 1000, (label, done, total) -> {
            if (label.startsWith("create")) {
                creates.add(done);
                if (done == 10) {
                    self.get().cancel();
                }
            }
        });
        self.set(bench);
        InterruptedIOException e = assertThrows(InterruptedIOException.class, bench::run);
        assertTrue(e.getMessage().contains("create 1000 files"), e.getMessage());
        assertEquals(10, creates.size(), "the workload went on after the cancel: " + creates);
    }
}
