package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands for the integration tests and captures their output. */
final class Shell {
    /** What a finished command left behind. */
    record Result(int exit, String out) {
    }

    private Shell() {
    }

    static Result run(Path cwd, long timeoutSeconds, List<String> command) {
        return run(cwd, timeoutSeconds, command, java.util.Map.of());
    }

    static Result run(Path cwd, long timeoutSeconds, List<String> command, java.util.Map<String, String> env) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(env);
            Process p = pb.start();
            byte[][] out = new byte[1][];
            Thread reader = new Thread(() -> {
                try {
                    out[0] = p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    out[0] = ("(output lost: " + e + ")").getBytes(StandardCharsets.UTF_8);
                }
            });
            reader.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                reader.join(5000);
                fail("timed out after " + timeoutSeconds + " s: " + command + "\n" + text(out[0]));
            }
            reader.join();
            return new Result(p.exitValue(), text(out[0]));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String text(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
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
