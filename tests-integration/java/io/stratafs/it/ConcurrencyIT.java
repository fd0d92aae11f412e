package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Several processes at once on one mount (the mount serves FUSE requests on many threads). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConcurrencyIT {
    private MountFixture fs;

    @BeforeAll
    void mount() throws Exception {
        fs = new MountFixture().format().mount();
    }

    @AfterAll
    void cleanup() {
        fs.close();
    }

    @Test
    void parallelWritersOfDifferentFilesGetTheirOwnBytes() {
        String out = fs.sh("""
                for i in 1 2 3 4 5 6; do head -c $((i * 3000000 + 17)) /dev/urandom > %1$s/src$i; done
                for i in 1 2 3 4 5 6; do cp %1$s/src$i par$i & done; wait
                for i in 1 2 3 4 5 6; do cmp %1$s/src$i par$i && echo same; done | wc -l
                """.formatted(fs.root));
        assertEquals("6", out.trim());
    }

    @Test
    void aReaderSeesCompleteDataWhileAnotherProcessAppendsElsewhere() {
        String out = fs.sh("""
                head -c 40000000 /dev/urandom > %1$s/steady; cp %1$s/steady steady
                ( for i in $(seq 1 200); do head -c 65536 /dev/urandom >> grower; done ) &
                for round in 1 2 3; do cmp %1$s/steady steady; done
                wait
                test "$(stat -c %%s grower)" = $((200 * 65536)) && echo ok
                """.formatted(fs.root));
        assertEquals("ok", out.trim());
    }

    @Test
    void manySmallFileCreatorsInOneDirectory() {
        String out = fs.sh("""
                mkdir shared
                for w in 1 2 3 4; do ( for i in $(seq 1 500); do echo "$w-$i" > shared/w$w-$i; done ) & done; wait
                ls shared | wc -l
                cat shared/w3-250
                """);
        assertEquals("2000\n3-250", out.trim());
    }

    @Test
    void twoWritersOfOneFileNeverTearABlockWrite() {
        String out = fs.sh("""
                head -c 1048576 /dev/zero | tr '\\0' 'a' > %1$s/A; head -c 1048576 /dev/zero | tr '\\0' 'b' > %1$s/B
                touch same
                ( for i in $(seq 1 20); do dd if=%1$s/A of=same bs=1M conv=notrunc status=none; done ) &
                ( for i in $(seq 1 20); do dd if=%1$s/B of=same bs=1M conv=notrunc status=none; done ) &
                wait
                test "$(stat -c %%s same)" = 1048576
                tr -d 'ab' < same | wc -c
                """.formatted(fs.root));
        assertEquals("0", out.trim(), "bytes other than the two writers' appeared");
    }
}
