package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs commands for the integration tests and captures their output. Each command runs in a session
 * of its own ({@code setsid}; a child of the JVM is never a process-group leader, so setsid does not
 * fork and the command's pid names its session): whatever it leaves running (a background job of a
 * script that failed, a writer's current {@code cp}) is found by that session and stopped, so no
 * process outlives its test. The mount daemon starts its own session and is not touched.
 */
final class Shell {
    private static final String SETSID = "/usr/bin/setsid";

    /** What a finished command left behind; {@code out} is stdout and stderr interleaved. */
    record Result(int exit, String out) {
    }

    /** A finished command whose stdout and stderr were kept apart. */
    record Split(int exit, String stdout, String stderr) {
    }

    private Shell() {
    }

    static Result run(Path cwd, long timeoutSeconds, List<String> command) {
        return run(cwd, timeoutSeconds, command, Map.of());
    }

    static Result run(Path cwd, long timeoutSeconds, List<String> command, Map<String, String> env) {
        Split s = start(cwd, timeoutSeconds, command, env, true);
        return new Result(s.exit(), s.stdout());
    }

    static Split runSplit(Path cwd, long timeoutSeconds, List<String> command) {
        return start(cwd, timeoutSeconds, command, Map.of(), false);
    }

    private static Split start(Path cwd, long timeoutSeconds, List<String> command, Map<String, String> env, boolean merge) {
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(inOwnSession(command)).directory(cwd.toFile()).redirectErrorStream(merge)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().putAll(env);
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e, e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                stopSession(p);
                fail("timed out after " + timeoutSeconds + " s: " + command + "\n" + out.getNow("") + err.getNow(""));
            }
            stopSession(p);
            return new Split(p.exitValue(), rest(out), rest(err));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopSession(p);
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * A command left running while the test goes on (a writer, an appender), its stdout and stderr
     * appended to a file. {@link #close()} stops it and everything it started; use it in
     * try-with-resources so that happens also when an assertion fails.
     */
    static final class Background implements AutoCloseable {
        private final Process process;
        private final Path log;

        private Background(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        boolean isAlive() {
            return process.isAlive();
        }

        /** The command's pid (setsid and a launcher that execs keep it: it is the pid of the program itself). */
        long pid() {
            return process.pid();
        }

        /** Waits up to the timeout for the command to end; returns whether it did. */
        boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            return process.waitFor(timeout, unit);
        }

        int exitValue() {
            return process.exitValue();
        }

        /**
         * How many of the command's processes sit in a system call waiting for a FUSE daemon's reply
         * ({@code request_wait_answer} is where the kernel parks them; /proc/PID/wchan names it).
         */
        long waitingForFuse() {
            return inSession(process.pid()).stream().filter(h -> wchan(h.pid()).equals("request_wait_answer")).count();
        }

        /** What the command has written so far. */
        String output() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e + ")";
            }
        }

        @Override
        public void close() {
            stopSession(process);
        }
    }

    static Background background(Path cwd, Path log, List<String> command) {
        try {
            Process p = new ProcessBuilder(inOwnSession(command)).directory(cwd.toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            return new Background(p, log);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e, e);
        }
    }

    private static List<String> inOwnSession(List<String> command) {
        List<String> all = command(SETSID);
        all.addAll(command);
        return all;
    }

    /**
     * Kills the command and every process still in its session, looking again until none is left (a
     * shell loop may fork between one look and the kill); fails if any survives 30 s.
     */
    private static void stopSession(Process p) {
        long session = p.pid();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            for (List<ProcessHandle> left = inSession(session); !left.isEmpty(); left = inSession(session)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("processes survived kill -9: "
                            + left.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).toList());
                }
                left.forEach(ProcessHandle::destroyForcibly);
                TimeUnit.MILLISECONDS.sleep(10);
            }
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while stopping " + p.pid(), e);
        }
    }

    /** Running processes whose session id is {@code session}. */
    private static List<ProcessHandle> inSession(long session) {
        return ProcessHandle.allProcesses()
                .filter(h -> stat(h.pid()).map(f -> !f[0].equals("Z") && Long.parseLong(f[3]) == session).orElse(false))
                .toList();
    }

    /**
     * Whether the process exists and is not a zombie (a killed process whose parent died waits as a
     * zombie until the init process reaps it; it holds no files and no mount).
     */
    static boolean running(long pid) {
        return stat(pid).map(f -> !f[0].equals("Z")).orElse(false);
    }

    private static String wchan(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "wchan")).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** The fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ... */
    private static Optional<String[]> stat(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Optional.of(stat.substring(stat.lastIndexOf(')') + 2).split(" "));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The output of an exited command; a background child still holding the pipe is not waited for long. */
    private static String rest(CompletableFuture<String> text) throws InterruptedException {
        try {
            return text.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return "(output incomplete: a background process kept the pipe open)";
        }
    }

    /** Reads a stream to its end on its own thread, so a full pipe never blocks the child. */
    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> text = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (in) {
                text.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.complete("(output lost: " + e + ")");
            }
        }, "shell-output");
        t.setDaemon(true);
        t.start();
        return text;
    }

    /** Runs a bash script with errexit and pipefail; fails the test with the output when it fails. */
    static String bash(Path cwd, String script) {
        return bash(cwd, 600, script);
    }

    static String bash(Path cwd, long timeoutSeconds, String script) {
        Result r = run(cwd, timeoutSeconds, List.of("bash", "-euo", "pipefail", "-c", script));
        if (r.exit() != 0) {
            fail("script failed with exit " + r.exit() + " in " + cwd + ":\n" + script + "\n--- output ---\n" + r.out());
        }
        return r.out();
    }

    static List<String> command(String... parts) {
        return new ArrayList<>(List.of(parts));
    }
}
