package io.stratafs.vfs;

/** Injected time, so tests can control it. */
@FunctionalInterface
public interface Clock {
    Clock SYSTEM = () -> {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    };

    /** Nanoseconds since the epoch. */
    long nowNs();
}
