package io.stratafs.cli;

import io.stratafs.config.Sizes;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stratafs warmup PATH...}: has the daemon of each path's mount fetch the files into its local
 * cache (see {@link io.stratafs.cache.Warmup}) and follows its progress: a bar on a terminal, one
 * summary line in any case.
 */
@Command(name = "warmup", mixinStandardHelpOptions = true, description = {
    "Fetch files or whole directory trees of a mounted volume into its local cache, in parallel,",
    "as far as the cache size allows (it stops, and says so, before evicting what it fetched).",
    "Exit status 0 when everything is cached, 1 when something could not be fetched,",
    PathStatus.PENDING + " when it stopped at the cache size."})
final class WarmupCommand implements Callable<Integer> {
    private static final long POLL_MS = 200;
    private static final int BAR = 30;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or directories inside mounted StrataFS volumes.")
    List<Path> paths;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "8", description = "Blocks fetched at the same time (1-64; default: ${DEFAULT-VALUE}).")
    int parallel;

    private long files;
    private long filesTotal;
    private long bytes;
    private long fetched;
    private double seconds;
    private final List<String> failures = new ArrayList<>();
    private long failed;
    private String stopped;

    @Override
    public Integer call() throws InterruptedException {
        if (parallel < 1 || parallel > 64) {
            throw new IllegalArgumentException("--parallel must be between 1 and 64, got " + parallel);
        }
        Map<Path, List<MountedPath>> byMount = new LinkedHashMap<>();
        for (Path p : paths) {
            MountedPath mp = MountedPath.locate(p);
            byMount.computeIfAbsent(mp.mountpoint(), m -> new ArrayList<>()).add(mp);
        }
        for (List<MountedPath> group : byMount.values()) {
            warm(group);
            if (stopped != null) {
                break;
            }
        }
        System.out.println(String.format(Locale.ROOT, "warmup: %d of %d files (%s) in the cache; fetched %s in %.1f s, %.1f MiB/s%s",
                files, filesTotal, Sizes.human(bytes), Sizes.human(fetched), seconds,
                seconds > 0 ? fetched / seconds / (1 << 20) : 0.0, failed > 0 ? "; " + failed + " could not be fetched" : ""));
        for (String f : failures) {
            System.err.println("stratafs: cannot fetch " + f);
        }
        if (stopped != null) {
            System.err.println("stratafs: warmup " + stopped);
            return failed > 0 ? 1 : PathStatus.PENDING;
        }
        return failed > 0 ? 1 : 0;
    }

    private void warm(List<MountedPath> group) throws InterruptedException {
        Path socket = ControlChannel.socketFor(group.get(0).mountpoint());
        StringBuilder req = new StringBuilder("warmup-start ").append(parallel);
        for (MountedPath mp : group) {
            req.append(' ').append(PathRequests.encode(mp.inner()));
        }
        String id = expectOk(socket, ControlChannel.request(socket, req.toString()), group.get(0).mountpoint()).substring(3);
        Thread cancel = new Thread(() -> ControlChannel.request(socket, "warmup-cancel " + id));
        Runtime.getRuntime().addShutdownHook(cancel);
        PrintStream bar = System.console() != null ? System.err : null;
        try {
            while (true) {
                Map<String, Object> p = JsonReader.object(expectOk(socket, ControlChannel.request(socket, "warmup-progress " + id),
                        group.get(0).mountpoint()));
                if (bar != null) {
                    bar.print("\r" + bar(p));
                    bar.flush();
                }
                if (Boolean.TRUE.equals(p.get("done"))) {
                    record(group.get(0), p);
                    break;
                }
                Thread.sleep(POLL_MS);
            }
        } finally {
            if (bar != null) {
                bar.print("\r" + " ".repeat(100) + "\r");
                bar.flush();
            }
            Runtime.getRuntime().removeShutdownHook(cancel);
        }
    }

    @SuppressWarnings("unchecked")
    private void record(MountedPath any, Map<String, Object> p) {
        files += PathStatus.num(p, "filesDone");
        filesTotal += PathStatus.num(p, "filesTotal");
        bytes += PathStatus.num(p, "bytesDone");
        fetched += PathStatus.num(p, "fetchedBytes");
        failed += PathStatus.num(p, "filesFailed");
        seconds += ((Number) p.get("seconds")).doubleValue();
        for (Object f : (List<Object>) p.get("failures")) {
            failures.add(any.shown((String) f));
        }
        if (p.get("stopped") != null) {
            Object before = p.get("stoppedBefore");
            stopped = (before == null ? "" : "stopped before " + any.shown((String) before) + ": ") + p.get("stopped");
        }
    }

    private static String expectOk(Path socket, String reply, Path mountpoint) {
        if (reply == null) {
            throw new IllegalStateException("the StrataFS mount at " + mountpoint + " does not answer on its control socket " + socket);
        }
        if (reply.startsWith("error")) {
            throw new IllegalStateException(reply.substring(5).trim());
        }
        return reply;
    }

    private static String bar(Map<String, Object> p) {
        if (Boolean.TRUE.equals(p.get("scanning"))) {
            return "scanning: " + PathStatus.num(p, "filesTotal") + " files so far";
        }
        long total = Math.max(1, PathStatus.num(p, "bytesTotal"));
        long done = PathStatus.num(p, "blockBytesDone");
        int filled = (int) Math.min(BAR, done * BAR / total);
        double secs = ((Number) p.get("seconds")).doubleValue();
        return String.format(Locale.ROOT, "[%s%s] %3d%%  %d/%d files  %s/%s  %.1f MiB/s ", "#".repeat(filled), "-".repeat(BAR - filled),
                done * 100 / total, PathStatus.num(p, "filesDone"), PathStatus.num(p, "filesTotal"), Sizes.human(done),
                Sizes.human(PathStatus.num(p, "bytesTotal")), secs > 0 ? PathStatus.num(p, "fetchedBytes") / secs / (1 << 20) : 0.0);
    }
}
