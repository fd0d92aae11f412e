package io.stratafs.cli;

import io.stratafs.logging.JournalStream;
import io.stratafs.logging.StrataLogProvider;

/**
 * Configures the log before the first logger exists: INFO for a daemon, WARN for commands, one line
 * per event. Lines carry a time and the thread, except when stderr is journald's stream (a systemd
 * service in the foreground): journald stamps the time itself and takes the syslog priority from a
 * {@code <N>} prefix.
 */
final class Logging {
    private Logging() {
    }

    static void configure(boolean daemon) {
        boolean journal = daemon && JournalStream.isStderr();
        // naming the provider skips the classpath scan; SLF4J would announce that on stderr at its default verbosity
        set("slf4j.internal.verbosity", "WARN");
        set("slf4j.provider", StrataLogProvider.class.getName());
        set(StrataLogProvider.JOURNAL, Boolean.toString(journal));
        set("org.slf4j.simpleLogger.defaultLogLevel", daemon ? "info" : "warn");
        set("org.slf4j.simpleLogger.showDateTime", Boolean.toString(!journal));
        set("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        set("org.slf4j.simpleLogger.showThreadName", Boolean.toString(!journal));
        set("org.slf4j.simpleLogger.showShortLogName", "true");
        set("org.slf4j.simpleLogger.log.software.amazon", "warn");
        set("org.slf4j.simpleLogger.log.org.apache", "warn");
    }

    private static void set(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
