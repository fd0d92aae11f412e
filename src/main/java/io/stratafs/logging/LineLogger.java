package io.stratafs.logging;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.MessageFormatter;

/**
 * slf4j-simple's logger, writing each event as one line: line breaks inside a message (an
 * exception text from a server, say) become " | ", so a log reader or grep sees the whole event.
 * For journald each line, stack trace lines included, starts with the syslog priority
 * ({@code <3>} error, {@code <4>} warning, {@code <6>} info, {@code <7>} debug) that journald
 * turns into the entry's priority.
 */
final class LineLogger extends org.slf4j.simple.SimpleLogger {
    private static final long serialVersionUID = 1L;
    /** The priority of the event being written, for its stack trace lines. */
    private static final ThreadLocal<String> PRIORITY = new ThreadLocal<>();

    private final boolean journal;

    LineLogger(String name, boolean journal) {
        super(name);
        this.journal = journal;
    }

    /** One line of text: what a message renders to, with its line breaks folded. */
    static String oneLine(String pattern, Object[] args) {
        String text = args == null || args.length == 0 ? pattern : MessageFormatter.basicArrayFormat(pattern, args);
        return text == null ? "null" : text.strip().replace("\r\n", " | ").replace('\r', ' ').replace("\n", " | ");
    }

    static String priority(Level level) {
        return switch (level) {
            case ERROR -> "<3>";
            case WARN -> "<4>";
            case INFO -> "<6>";
            case DEBUG, TRACE -> "<7>";
        };
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable t) {
        PRIORITY.set(priority(level));
        try {
            super.handleNormalizedLoggingCall(level, marker, oneLine(pattern, args), null, t);
        } finally {
            PRIORITY.remove();
        }
    }

    @Override
    protected String renderLevel(int level) {
        String name = super.renderLevel(level);
        return journal ? priority(Level.intToLevel(level)) + name : name;
    }

    @Override
    protected void writeThrowable(Throwable t, PrintStream out) {
        if (t == null || !journal) {
            super.writeThrowable(t, out);
            return;
        }
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        String prefix = PRIORITY.get() != null ? PRIORITY.get() : priority(Level.ERROR);
        for (String line : trace.toString().split("\\R")) {
            out.println(prefix + line);
        }
    }
}
