package io.stratafs.cli;

import io.stratafs.ops.Progress;
import java.io.PrintStream;

/**
 * fsck's and gc's progress as one redrawn line on a terminal's stderr; nothing otherwise, since a
 * log or a pipe wants the one-line summary at the end, not a stream of carriage returns.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private String phase = "";
    private long total;
    private long done;
    private long lastDrawNanos;

    private ProgressBar(PrintStream out) {
        this.out = out;
    }

    /** A bar on stderr when a terminal is attached, else {@link Progress#NONE}. */
    static Progress forConsole() {
        return System.console() != null ? new ProgressBar(System.err) : Progress.NONE;
    }

    @Override
    public void phase(String name, long steps) {
        phase = name;
        total = steps;
        done = 0;
        draw(true);
    }

    @Override
    public void advance() {
        done++;
        draw(done == total);
    }

    /** Clears the bar so the summary starts on a clean line. */
    void finish() {
        out.print("\r\033[K");
        out.flush();
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDrawNanos < 100_000_000L) {
            return;
        }
        lastDrawNanos = now;
        int filled = total <= 0 ? 0 : (int) (WIDTH * Math.min(done, total) / total);
        String bar = "#".repeat(filled) + " ".repeat(WIDTH - filled);
        String count = total <= 0 ? "" : " " + done + "/" + total;
        out.print("\r\033[K[" + bar + "]" + count + " " + phase);
        out.flush();
    }

    static void finish(Progress p) {
        if (p instanceof ProgressBar bar) {
            bar.finish();
        }
    }
}
