package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Ordinary tools on a real mount: each step builds part of one tree and checks it; the last steps
 * take a manifest of everything (content hashes, modes, owners, link counts, times), unmount,
 * remount, and remount from an empty cache directory, and compare.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ToolsIT {
    private MountFixture fs;
    private String manifest;

    /** Everything that must survive a remount, one line per path, sorted. */
    private static final String MANIFEST = """
            find . -path ./many -prune -o \\( -type f -o -type d -o -type l -o -type p \\) \
              -printf '%p %y %m %U %G %n %s %T@ %l\\n' | LC_ALL=C sort
            find . -type f -not -path './many/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
            ls many | wc -l; cat many/* | sha256sum
            getfattr -d -m - xattrs/f 2>/dev/null
            """;

    @BeforeAll
    void mount() throws Exception {
        fs = new MountFixture().format().mount();
    }

    @AfterAll
    void cleanup() {
        fs.close();
    }

    @Test
    @Order(1)
    void cpArchiveOfATreeDiffsClean() {
        fs.sh("""
                src=%s/src; mkdir -p $src/a/b/c $src/empty
                for i in $(seq 1 200); do head -c $((i * 97)) /dev/urandom > $src/a/f$i; done
                for i in $(seq 1 20); do head -c 70000 /dev/urandom > $src/a/b/c/g$i; done
                chmod 600 $src/a/f1; chmod 755 $src/a/f2; ln -s a/f3 $src/link; ln -s /nonexistent $src/dangling
                cp -a $src ./copy
                diff -r --no-dereference $src ./copy
                test "$(stat -c %%a copy/a/f1)" = 600
                test "$(readlink copy/link)" = a/f3
                """.formatted(fs.root));
    }

    @Test
    @Order(2)
    void tarRoundTripChecksWithSha256sum() {
        fs.sh("""
                tar -cf %1$s/t.tar -C %1$s src
                mkdir untar && tar -xf %1$s/t.tar -C untar
                cd %1$s/src && find . -type f -print0 | xargs -0 sha256sum > %1$s/sums
                cd - >/dev/null && cd untar/src && sha256sum -c --quiet %1$s/sums
                cd .. && tar -cf ../again.tar src && cd .. && tar -tf again.tar | LC_ALL=C sort > %1$s/list2
                tar -tf %1$s/t.tar | LC_ALL=C sort | diff - %1$s/list2
                """.formatted(fs.root));
    }

    @Test
    @Order(3)
    void rsyncWithChecksumsLeavesNothingToDo() {
        String out = fs.sh("""
                rsync -a --checksum %1$s/src/ ./rsynced/
                rsync -a --checksum --dry-run --itemize-changes %1$s/src/ ./rsynced/
                """.formatted(fs.root));
        assertEquals("", out.trim(), "a second rsync found differences");
    }

    @Test
    @Order(4)
    void gitInitAddCommitLogFsck() {
        String out = fs.sh("""
                export HOME=%s GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
                git init -q repo && cd repo
                cp -r ../copy/a . && git add -A && git commit -q -m first
                echo change >> a/f5 && git commit -q -am second
                git log --oneline | wc -l
                git fsck --full --strict 2>&1
                git status --porcelain | wc -l
                """.formatted(fs.root));
        assertTrue(out.startsWith("2\n"), out);
        assertTrue(out.trim().endsWith("0"), "working tree not clean: " + out);
    }

    @Test
    @Order(5)
    void linksMovesModesOwnersTimesAndXattrs() {
        fs.sh("""
                mkdir -p links moved/deep xattrs
                echo one > links/orig; ln links/orig links/hard
                test "$(stat -c %%i links/orig)" = "$(stat -c %%i links/hard)"
                test "$(stat -c %%h links/orig)" = 2
                ln -s orig links/soft; test "$(cat links/soft)" = one
                mv copy/a/b moved/deep/; test -d moved/deep/b/c; test ! -e copy/a/b
                echo m > links/m; chmod 4751 links/m; test "$(stat -c %%a links/m)" = 4751
                chown 1234:4321 links/m; test "$(stat -c %%u:%%g links/m)" = 1234:4321
                touch -d '2001-02-03 04:05:06' links/m; test "$(stat -c %%Y links/m)" = "$(date -d '2001-02-03 04:05:06' +%%s)"
                echo x > xattrs/f
                setfattr -n user.color -v blue xattrs/f; setfattr -n user.gone -v x xattrs/f
                test "$(getfattr --only-values -n user.color xattrs/f)" = blue
                setfattr -x user.gone xattrs/f
                if getfattr -n user.gone xattrs/f 2>%1$s/err; then exit 1; fi; grep -q 'No such attribute' %1$s/err
                """.formatted(fs.root));
    }

    @Test
    @Order(6)
    void randomWritesWithDdMatchAPlainFile() {
        fs.sh("""
                ref=%s/ref.bin
                head -c 3000000 /dev/urandom > $ref; cp $ref rw.bin
                for i in $(seq 1 40); do
                  off=$(( (RANDOM * 32768 + RANDOM) %% 9000000 )); len=$(( RANDOM %% 70000 + 1 ))
                  head -c $len /dev/urandom > %s/chunk
                  dd if=%s/chunk of=$ref bs=1 seek=$off conv=notrunc status=none oflag=seek_bytes 2>/dev/null || dd if=%s/chunk of=$ref bs=$len seek=$off conv=notrunc status=none oflag=seek_bytes
                  dd if=%s/chunk of=rw.bin bs=$len seek=$off conv=notrunc status=none oflag=seek_bytes
                done
                cmp $ref rw.bin
                """.formatted(fs.root, fs.root, fs.root, fs.root, fs.root));
    }

    @Test
    @Order(7)
    void truncateGrowsWithZerosAndShrinks() {
        fs.sh("""
                head -c 5000000 /dev/urandom > tr.bin; head -c 1000 tr.bin > %1$s/tr.head
                truncate -s 1000 tr.bin; cmp tr.bin %1$s/tr.head
                truncate -s 9000000 tr.bin; test "$(stat -c %%s tr.bin)" = 9000000
                tail -c 8999000 tr.bin | cmp - <(head -c 8999000 /dev/zero)
                """.formatted(fs.root));
    }

    @Test
    @Order(8)
    void tenThousandFilesInOneDirectory() {
        String out = fs.sh(300, """
                mkdir many && cd many
                for i in $(seq 1 10000); do echo "$i" > "file-$i"; done
                ls | wc -l; find . -type f | wc -l; ls -l | tail -n +2 | wc -l
                cat file-1 file-10000
                """);
        assertEquals("10000\n10000\n10000\n1\n10000", out.trim());
    }

    @Test
    @Order(9)
    void aHalfGigabyteFile() {
        fs.sh(300, """
                head -c 536870912 /dev/urandom > %1$s/big.src
                cp %1$s/big.src big.bin
                cmp %1$s/big.src big.bin
                sha256sum < %1$s/big.src > %1$s/big.sum; rm %1$s/big.src
                """.formatted(fs.root));
    }

    @Test
    @Order(10)
    void fifosAndSqlite() {
        String out = fs.sh("""
                mkfifo pipe; test -p pipe; test "$(stat -c %F pipe)" = fifo
                (echo through-the-fifo > pipe &) ; read line < pipe; echo $line
                sqlite3 db.sqlite "create table t(id integer primary key, v text); \
                  begin; $(for i in $(seq 1 3000); do printf "insert into t(v) values('row%d');" $i; done) commit;"
                sqlite3 db.sqlite "select count(*), sum(id) from t; pragma integrity_check;"
                """);
        assertEquals("through-the-fifo\n3000|4501500\nok", out.trim());
    }

    @Test
    @Order(11)
    void unlinkedOpenFilesStayReadableAndErrorsAreRight() {
        String out = fs.sh("""
                head -c 3000000 /dev/urandom > open.bin; sha256sum < open.bin > %1$s/open.sum
                exec 3< open.bin; rm open.bin
                sha256sum <&3 | cmp - %1$s/open.sum && echo still-readable; exec 3<&-
                test ! -e open.bin; ls -a | grep -c fuse_hidden || true
                mkdir full; touch full/x; { rmdir full 2>&1 || true; } | grep -c 'not empty'
                { touch "$(printf 'n%%.0s' $(seq 1 256))" 2>&1 || true; } | grep -c 'File name too long'
                mkdir -p $(printf 'n%%.0s' $(seq 1 255))/ok && echo 255-bytes-ok
                """.formatted(fs.root));
        assertEquals("still-readable\n0\n1\n1\n255-bytes-ok", out.trim());
    }

    @Test
    @Order(20)
    void everythingSurvivesARemount() {
        manifest = fs.sh(MANIFEST);
        fs.remount();
        assertEquals(manifest, fs.sh(MANIFEST));
        fs.sh("sha256sum < big.bin | cmp - %s/big.sum".formatted(fs.root));
    }

    @Test
    @Order(21)
    void everythingSurvivesAnEmptyCacheDirectory() {
        fs.remountWithEmptyCache();
        assertEquals(manifest, fs.sh(MANIFEST));
        fs.sh("sha256sum < big.bin | cmp - %s/big.sum".formatted(fs.root));
    }
}
