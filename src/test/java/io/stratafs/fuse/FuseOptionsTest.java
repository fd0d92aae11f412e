package io.stratafs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FuseOptionsTest {
    @Test
    void timeoutsAreTakenOutAndTheLastOneWins() {
        FuseOptions o = FuseOptions.parse(List.of("-o", "big_writes,attr_timeout=0,use_ino,entry_timeout=2.5,fsname=stratafs:v",
                "-o", "attr_timeout=3,hard_remove,ro"));
        assertEquals(3.0, o.attrTimeout());
        assertEquals(2.5, o.entryTimeout());
        assertEquals(List.of("big_writes", "fsname=stratafs:v", "ro"), o.libfuseOptions());
    }

    @Test
    void withoutTimeoutsBothAreTenSeconds() {
        FuseOptions o = FuseOptions.parse(List.of("-odefault_permissions"));
        assertEquals(10.0, o.attrTimeout());
        assertEquals(10.0, o.entryTimeout());
        assertEquals(List.of("default_permissions"), o.libfuseOptions());
    }

    @Test
    void aTimeoutThatIsNoNumberOfSecondsIsRefusedWithASentence() {
        var e = assertThrows(IllegalArgumentException.class, () -> FuseOptions.parse(List.of("-o", "attr_timeout=soon")));
        assertTrue(e.getMessage().contains("attr_timeout=soon"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FuseOptions.parse(List.of("-o", "entry_timeout=-1")));
    }

    @Test
    void theReadersPollingTimeIsTakenOutWithAHundredMicrosecondsByDefault() {
        assertEquals(100, FuseOptions.parse(List.of("-o", "ro")).spinMicros());
        FuseOptions o = FuseOptions.parse(List.of("-o", "spin_us=0,ro"));
        assertEquals(0, o.spinMicros());
        assertEquals(List.of("ro"), o.libfuseOptions());
        assertEquals(250, FuseOptions.parse(List.of("-ospin_us=250")).spinMicros());
    }

    @Test
    void aPollingTimeThatIsNoWholeNumberOfMicrosecondsOrTooLongIsRefusedWithASentence() {
        for (String bad : List.of("spin_us=1.5", "spin_us=-1", "spin_us=10001", "spin_us=")) {
            var e = assertThrows(IllegalArgumentException.class, () -> FuseOptions.parse(List.of("-o", bad)), bad);
            assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("microseconds"), e.getMessage());
        }
    }
}
