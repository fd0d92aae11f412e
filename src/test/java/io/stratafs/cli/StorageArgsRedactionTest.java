package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The daemon's command line is readable by every local user (ps), so a password in --endpoint is not passed on. */
class StorageArgsRedactionTest {
    @Test
    void theDaemonGetsTheEndpointWithoutItsPassword() {
        StorageArgs a = new StorageArgs();
        a.downloadConcurrency = 8;
        a.stallTimeout = 30;
        a.endpoint = "http://alice:hunter2-endpoint-password@127.0.0.1:9000";
        String args = String.join(" ", a.asArgs());
        assertFalse(args.contains("hunter2"), args);
        assertTrue(args.contains("--endpoint=http://127.0.0.1:9000"), args);
    }
}
