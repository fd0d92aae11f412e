package io.stratafs.cli;

/** Configures slf4j-simple before the first logger exists: INFO with times for a daemon, WARN for commands. */
final class Logging {
    private Logging() {
    }

    static void configure(boolean daemon) {
        set("org.slf4j.simpleLogger.defaultLogLevel", daemon ? "info" : "warn");
        set("org.slf4j.simpleLogger.showDateTime", "true");
        set("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
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
