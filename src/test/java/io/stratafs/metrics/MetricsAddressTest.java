package io.stratafs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsAddressTest {

    @Test
    void hostAndPortAreParsed() {
        assertEquals(new MetricsAddress("127.0.0.1", 9567), MetricsAddress.parse("127.0.0.1:9567"));
        assertEquals(new MetricsAddress("localhost", 1), MetricsAddress.parse("localhost:1"));
        assertEquals(new MetricsAddress("::1", 9567), MetricsAddress.parse("[::1]:9567"));
        assertEquals("[::1]:9567", MetricsAddress.parse("[::1]:9567").toString());
    }

    @Test
    void anythingElseIsRefusedWithASentenceNamingTheArgument() {
        for (String bad : new String[] {"9567", ":9567", "127.0.0.1:", "127.0.0.1:http", "::1:9567", "[]:9567", "a b:1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--metrics must be HOST:PORT"), e.getMessage());
        }
        for (String bad : new String[] {"127.0.0.1:0", "127.0.0.1:65536"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse(bad), bad);
            assertTrue(e.getMessage().contains("port must be 1 to 65535"), e.getMessage());
        }
    }
}
