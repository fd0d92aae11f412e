package io.stratafs.logging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/**
 * Whether stderr is connected to journald. systemd sets {@code JOURNAL_STREAM=DEV:INODE} for a
 * service whose output goes to the journal; a child whose stderr was redirected elsewhere (the
 * background daemon's log file) inherits the variable, so the device and inode of fd 2 must match.
 */
public final class JournalStream {
    private JournalStream() {
    }

    /** Whether this process's stderr is the stream named by JOURNAL_STREAM. */
    public static boolean isStderr() {
        return names(System.getenv("JOURNAL_STREAM"), Paths.get("/proc/self/fd/2"));
    }

    /** Whether {@code journalStream} ("DEV:INODE", as systemd writes it) names the file {@code fd} leads to. */
    static boolean names(String journalStream, Path fd) {
        if (journalStream == null) {
            return false;
        }
        String[] parts = journalStream.trim().split(":");
        if (parts.length != 2) {
            return false;
        }
        try {
            Map<String, Object> st = Files.readAttributes(fd, "unix:dev,ino");
            return Long.parseUnsignedLong(parts[0]) == ((Number) st.get("dev")).longValue()
                    && Long.parseUnsignedLong(parts[1]) == ((Number) st.get("ino")).longValue();
        } catch (IOException | NumberFormatException | UnsupportedOperationException e) {
            return false;
        }
    }
}
