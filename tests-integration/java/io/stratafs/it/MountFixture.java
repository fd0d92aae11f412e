package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.stratafs.testing.TempDirs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A formatted volume in a temporary directory (store/, cache-N/, mnt/) driven through the real
 * launcher. {@link #close()} always unmounts, stops any daemon of this fixture and deletes
 * everything, also after a failed test; {@link #format} and {@link #mount} clean up by themselves
 * when they fail, so {@code new MountFixture().format().mount()} never leaks a mount.
 */
final class MountFixture implements AutoCloseable {
    static final Path LAUNCHER = Paths.get(System.getProperty("stratafs.launcher", "mount-scripts/stratafs")).toAbsolutePath();

    final Path root;
    final Path mnt;
    String storage;
    Path cache;
    private final List<String> extraMountArgs = new ArrayList<>();
    private final List<String> storageArgs = new ArrayList<>();
    final Map<String, String> env = new HashMap<>();
    private int cacheGeneration;

    MountFixture() throws IOException {
        root = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-it-");
        mnt = Files.createDirectories(root.resolve("mnt"));
        storage = Files.createDirectories(root.resolve("store")).toString();
        cache = root.resolve("cache-0");
    }

    /** Uses other storage (e.g. s3://bucket/prefix) with the options to reach it, for format and mount. */
    MountFixture withStorage(String storage, String... args) {
        this.storage = storage;
        storageArgs.addAll(List.of(args));
        return this;
    }

    MountFixture withMountArgs(String... args) {
        extraMountArgs.addAll(List.of(args));
        return this;
    }

    /** Runs the launcher; returns the result without judging it. */
    static Shell.Result cli(String... args) {
        List<String> cmd = Shell.command(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return Shell.run(Paths.get("/tmp"), 300, cmd);
    }

    /** Runs the launcher with stdout and stderr kept apart. */
    static Shell.Split cliSplit(String... args) {
        List<String> cmd = Shell.command(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return Shell.runSplit(Paths.get("/tmp"), 300, cmd);
    }

    /** Runs the launcher with this fixture's environment. */
    Shell.Result run(String... args) {
        List<String> cmd = Shell.command(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return Shell.run(Paths.get("/tmp"), 300, cmd, env);
    }

    String runOk(String... args) {
        Shell.Result r = run(args);
        if (r.exit() != 0) {
            fail("stratafs " + String.join(" ", args) + " failed with exit " + r.exit() + ":\n" + r.out() + logTail());
        }
        return r.out();
    }

    static String ok(String... args) {
        Shell.Result r = cli(args);
        if (r.exit() != 0) {
            fail("stratafs " + String.join(" ", args) + " failed with exit " + r.exit() + ":\n" + r.out());
        }
        return r.out();
    }

    MountFixture format(String... args) {
        List<String> all = new ArrayList<>(List.of("format", storage));
        all.addAll(storageArgs);
        all.addAll(List.of(args));
        return cleaningUpOnFailure(() -> runOk(all.toArray(new String[0])));
    }

    /** The arguments of a mount of this fixture's storage at its mountpoint and cache. */
    List<String> mountArgs() {
        List<String> args = new ArrayList<>(List.of("mount", storage, mnt.toString(), "--cache-dir", cache.toString()));
        args.addAll(storageArgs);
        args.addAll(extraMountArgs);
        return args;
    }

    MountFixture mount() {
        return cleaningUpOnFailure(() -> {
            runOk(mountArgs().toArray(new String[0]));
            assertTrue(isMounted(), "mount returned but " + mnt + " is not in /proc/mounts" + logTail());
        });
    }

    void umount() {
        runOk("umount", mnt.toString());
        assertTrue(!isMounted(), mnt + " is still mounted after umount" + logTail());
    }

    void remount() {
        umount();
        mount();
    }

    /** Unmounts and mounts the same storage with a brand-new cache directory (a new machine). */
    void remountWithEmptyCache() {
        umount();
        cache = root.resolve("cache-" + (++cacheGeneration));
        mount();
    }

    private MountFixture cleaningUpOnFailure(Runnable step) {
        try {
            step.run();
            return this;
        } catch (RuntimeException | Error e) {
            try {
                close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    boolean isMounted() {
        try {
            String want = mnt.toString();
            for (String line : Files.readAllLines(Paths.get("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals(want) && f[2].startsWith("fuse")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The daemon's pid: from its pid file, else the java process whose command line names our mountpoint. */
    long daemonPid() {
        Path pidFile = cache.resolve("stratafs.pid");
        try {
            if (Files.exists(pidFile)) {
                return Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).trim());
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the process table
        }
        return daemons().stream().findFirst().map(ProcessHandle::pid)
                .orElseThrow(() -> new AssertionError("no StrataFS daemon for " + mnt + " (no pid file in " + cache + ")"));
    }

    /** Live daemons ({@code mount --foreground}, which the background mount starts) of this fixture's unique mountpoint. */
    List<ProcessHandle> daemons() {
        String want = mnt.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> commandLine(p).map(c -> c.contains(" " + want + " ") && c.contains(" --foreground ")).orElse(false))
                .toList();
    }

    private static Optional<String> commandLine(ProcessHandle p) {
        try {
            byte[] raw = Files.readAllBytes(Paths.get("/proc", Long.toString(p.pid()), "cmdline"));
            return Optional.of(" " + new String(raw, StandardCharsets.UTF_8).replace('\0', ' '));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** kill -9 of the mount process; waits until the process is gone. */
    void kill9() {
        long pid = daemonPid();
        ProcessHandle handle = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
        Shell.Result r = Shell.run(root, 30, List.of("kill", "-9", Long.toString(pid)));
        assertTrue(r.exit() == 0, "kill -9 " + pid + " failed: " + r.out());
        handle.onExit().join();
    }

    String sh(String script) {
        return sh(600, script);
    }

    String sh(long timeoutSeconds, String script) {
        Shell.Result r = Shell.run(mnt, timeoutSeconds, List.of("bash", "-euo", "pipefail", "-c", script));
        if (r.exit() != 0) {
            fail("script failed with exit " + r.exit() + " in " + mnt + ":\n" + script + "\n--- output ---\n" + r.out() + logTail());
        }
        return r.out();
    }

    /** The last lines of the daemon's log, for failure messages (the log is deleted with the fixture). */
    String logTail() {
        Path log = cache.resolve("stratafs.log");
        try {
            if (!Files.exists(log)) {
                return "";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "\n--- last lines of " + log + " ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "\n(cannot read " + log + ": " + e + ")";
        }
    }

    String statusJson() {
        return runOk("status", mnt.toString(), "--json");
    }

    /** A numeric field of the status JSON (the first occurrence, which is the volume-wide figure). */
    long statusField(String name) {
        String json = statusJson();
        int at = json.indexOf("\"" + name + "\":");
        assertTrue(at >= 0, "status has no field " + name + ": " + json);
        int start = at + name.length() + 3;
        int end = start;
        while (end < json.length() && Character.isDigit(json.charAt(end))) {
            end++;
        }
        return Long.parseLong(json.substring(start, end));
    }

    /** Unmounts (flushing; lazily if that fails), stops this fixture's daemons, deletes the directory. Idempotent. */
    @Override
    public void close() {
        List<Throwable> problems = new ArrayList<>();
        attempt(problems, () -> {
            if (isMounted()) {
                Shell.Result r = run("umount", mnt.toString(), "--timeout", "60");
                if (r.exit() != 0 || isMounted()) {
                    Shell.run(root, 60, List.of("fusermount", "-u", "-z", mnt.toString()));
                }
            }
        });
        attempt(problems, () -> daemons().forEach(MountFixture::stop));
        attempt(problems, () -> {
            if (isMounted()) {
                Shell.run(root, 60, List.of("fusermount", "-u", "-z", mnt.toString()));
            }
        });
        attempt(problems, () -> {
            if (!Files.exists(root)) {
                return;
            }
            try {
                TempDirs.delete(root);
            } catch (IOException e) {
                throw new AssertionError("cannot remove " + root, e);
            }
        });
        if (!problems.isEmpty()) {
            AssertionError e = new AssertionError("cleanup of " + root + " was incomplete");
            problems.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** SIGTERM (the daemon unmounts and flushes), then SIGKILL if it has not exited within 30 s. */
    private static void stop(ProcessHandle p) {
        p.destroy();
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            p.destroyForcibly();
            p.onExit().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    private static void attempt(List<Throwable> problems, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            problems.add(e);
        }
    }
}
