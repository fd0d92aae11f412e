package io.stratafs.logging;

import org.slf4j.ILoggerFactory;
import org.slf4j.simple.SimpleLoggerFactory;
import org.slf4j.simple.SimpleServiceProvider;

/**
 * The SLF4J provider the {@code stratafs} command selects (system property {@code slf4j.provider}):
 * slf4j-simple, configured by its usual system properties, with {@link LineLogger} loggers; in
 * journal mode (system property {@value #JOURNAL}) lines carry syslog priority prefixes.
 */
public final class StrataLogProvider extends SimpleServiceProvider {
    public static final String JOURNAL = "stratafs.log.journal";

    private ILoggerFactory factory;

    @Override
    public void initialize() {
        super.initialize();
        boolean journal = Boolean.getBoolean(JOURNAL);
        factory = new SimpleLoggerFactory() {
            @Override
            protected org.slf4j.Logger createLogger(String name) {
                return new LineLogger(name, journal);
            }
        };
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }
}
