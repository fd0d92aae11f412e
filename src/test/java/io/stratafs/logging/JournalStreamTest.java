package io.stratafs.logging;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JOURNAL_STREAM counts only when it names the very file stderr leads to. */
class JournalStreamTest {
    @TempDir
    Path dir;

    private static String devIno(Path p) throws Exception {
        Map<String, Object> st = Files.readAttributes(p, "unix:dev,ino");
        return st.get("dev") + ":" + st.get("ino");
    }

    @Test
    void matchingDeviceAndInodeIsTheJournal() throws Exception {
        Path stream = Files.createFile(dir.resolve("stream"));
        assertTrue(JournalStream.names(devIno(stream), stream));
    }

    @Test
    void anInheritedValueNamingAnotherFileIsNot() throws Exception {
        Path stream = Files.createFile(dir.resolve("stream"));
        Path log = Files.createFile(dir.resolve("log"));
        assertFalse(JournalStream.names(devIno(stream), log));
    }

    @Test
    void missingOrMalformedValuesAreNot() throws Exception {
        Path log = Files.createFile(dir.resolve("log"));
        assertFalse(JournalStream.names(null, log));
        assertFalse(JournalStream.names("", log));
        assertFalse(JournalStream.names("12", log));
        assertFalse(JournalStream.names("a:b", log));
        assertFalse(JournalStream.names("1:2:3", log));
    }
}
