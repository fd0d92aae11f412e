package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonReaderTest {
    @Test
    void readsBackWhatJsonWrites() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", "/a \"quoted\"\\name\twith\nbreaks \u0001");
        m.put("n", 12345678901L);
        m.put("seconds", 1.5);
        m.put("ok", true);
        m.put("no", false);
        m.put("none", null);
        m.put("list", Arrays.asList(1L, "two", List.of(), Map.of()));
        assertEquals(m, JsonReader.read(Json.write(m)));
    }

    @Test
    void malformedRepliesFailWithASentence() {
        for (String bad : List.of("{\"a\":", "{\"a\" 1}", "[1,2", "{\"a\":1} x", "\"open", "{\"a\":-}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonReader.read(bad), bad);
            assertTrue(e.getMessage().startsWith("cannot read the daemon's reply"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> JsonReader.object("[1]"));
    }
}
