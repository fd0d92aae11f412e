package io.stratafs.metrics;

/**
 * The {@code --metrics HOST:PORT} argument, checked before anything is mounted: a host (name, IPv4,
 * or IPv6 in brackets) and a port from 1 to 65535.
 */
public record MetricsAddress(String host, int port) {

    public static MetricsAddress parse(String spec) {
        String usage = "--metrics must be HOST:PORT (e.g. 127.0.0.1:9567), got \"" + spec + "\"";
        int colon = spec.lastIndexOf(':');
        if (colon <= 0 || colon == spec.length() - 1) {
            throw new IllegalArgumentException(usage);
        }
        String host = spec.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(usage + " (write an IPv6 address in brackets: [::1]:9567)");
        }
        if (host.isEmpty() || host.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(usage);
        }
        int port;
        try {
            port = Integer.parseInt(spec.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(usage);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--metrics port must be 1 to 65535, got " + port);
        }
        return new MetricsAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
