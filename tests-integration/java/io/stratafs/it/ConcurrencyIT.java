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
        fs = new MountFixture();
        fs.format().mount();
    }

    @AfterAll
    void cleanup() {
        if (fs != null) {
            fs.close();
        }
    }

    @Test
    void parallelCopiesGetTheirOwnBytesAlsoAfterARemount() {
        fs.sh("""
                mkdir par && for i in 1 2 3 4 5 6; do head -c $((i * 3000000 + 17)) /dev/urandom > %1$s/src$i; done
                for i in 1 2 3 4 5 6; do cp %1$s/src$i par/$i & done; wait
                (cd %1$s && sha256sum src?) | sed 's/src/par\\//' > %1$s/par.sums
                sha256sum --quiet -c %1$s/par.sums
                """.formatted(fs.root));
        fs.remount();
        fs.sh("sha256sum --quiet -c %s/par.sums".formatted(fs.root));
    }

    @Test
    void twoProcessesWriteDifferentFilesAtTheSameTime() {
        fs.sh("""
                python3 - two-a two-b <<'PY'
                import hashlib, os, sys
                from multiprocessing import Process
                def write(path):
                    h = hashlib.sha256()
                    with open(path, "wb") as f:
                        for _ in range(400):
                            b = os.urandom(50_000); f.write(b); h.update(b)
                    open(path + ".want", "w").write(h.hexdigest())
                ps = [Process(target=write, args=(p,)) for p in sys.argv[1:]]
                [p.start() for p in ps]; [p.join() for p in ps]
                assert all(p.exitcode == 0 for p in ps)
                PY
                for f in two-a two-b; do test "$(sha256sum < $f | cut -d' ' -f1)" = "$(cat $f.want)"; done
                """);
    }

    @Test
    void aReaderSeesCompleteDataWhileAnotherProcessAppendsElsewhere() {
        String out = fs.sh("""
                head -c 40000000 /dev/urandom > %1$s/steady; cp %1$s/steady steady
                ( for i in $(seq 1 200); do head -c 65536 /dev/urandom | tee -a %1$s/grower.ref >> grower; done ) & appender=$!
                rounds=0
                while kill -0 $appender 2>/dev/null || [ $rounds = 0 ]; do cmp %1$s/steady steady; rounds=$((rounds + 1)); done
                wait $appender
                cmp %1$s/grower.ref grower && echo appended-intact
                """.formatted(fs.root));
        assertEquals("appended-intact", out.trim());
    }

    @Test
    void manySmallFileCreatorsInOneDirectory() {
        String out = fs.sh("""
                mkdir shared
                for w in 1 2 3 4; do ( for i in $(seq 1 500); do echo "$w-$i" > shared/w$w-$i; done ) & done; wait
                ls shared | wc -l
                cat shared/w3-250
                for w in 1 2 3 4; do for i in 1 250 500; do test "$(cat shared/w$w-$i)" = "$w-$i"; done; done
                """);
        assertEquals("2000\n3-250", out.trim());
    }

    /**
     * Two processes each overwrite the same 1 MiB with one {@code pwrite}, started together through a
     * barrier, 100 times; after each round the region must be all one writer's bytes. Checking only
     * the end of a free-running race cannot tell: split writes rarely cross at the very end, while
     * here they cross in most rounds (a writer that writes 64 KiB pieces tears about two rounds in
     * three).
     */
    @Test
    void twoWritersOfOneFileNeverTearABlockWrite() {
        String out = fs.sh("""
                python3 - same <<'PY'
                import os, sys
                from multiprocessing import Barrier, Process
                path, rounds, size = sys.argv[1], 100, 1 << 20
                open(path, "wb").close()
                start, done = Barrier(3, timeout=120), Barrier(3, timeout=120)
                def writer(byte):
                    data, fd = byte * size, os.open(path, os.O_WRONLY)
                    try:
                        for _ in range(rounds):
                            start.wait()
                            written = os.pwrite(fd, data, 0)
                            assert written == size, f"a {size}-byte write returned {written}"
                            done.wait()
                    except BaseException:
                        start.abort(); done.abort()
                        raise
                writers = [Process(target=writer, args=(b,)) for b in (b"a", b"b")]
                [w.start() for w in writers]
                fd, torn = os.open(path, os.O_RDONLY), []
                for r in range(rounds):
                    start.wait(); done.wait()
                    got = os.pread(fd, size + 1, 0)
                    if got != b"a" * size and got != b"b" * size:
                        torn.append(f"round {r}: {len(got)} bytes, {got.count(b'a')} a's, {got.count(b'b')} b's")
                [w.join() for w in writers]
                assert all(w.exitcode == 0 for w in writers), "a writer failed"
                print(f"{len(torn)} of {rounds} rounds torn", *torn[:3], sep="\\n")
                PY
                """);
        assertEquals("0 of 100 rounds torn", out.trim(), "a 1 MiB write did not land whole");
    }
}
