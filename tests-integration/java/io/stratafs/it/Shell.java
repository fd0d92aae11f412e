package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs commands for the integration tests and captures their output. */
final class Shell {
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
            ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(merge)
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
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                fail("timed out after " + timeoutSeconds + " s: " + command + "\n" + out.getNow("") + err.getNow(""));
            }
            return new Split(p.exitValue(), rest(out), rest(err));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The output of an exited command; a background child still holding the pipe is not waited for long. */
    private static String rest(CompletableFuture<String> text) throws InterruptedException {
        try {
            return text.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
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
