package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Ordinary tools on a real mount: each step builds part of one tree and checks it; the last steps
 * take a manifest of everything (content hashes, modes, owners, link counts, times, xattrs), unmount,
 * remount, and remount from an empty cache directory, and compare the manifest and re-run the checks
 * that a manifest cannot express (inode identity of hard links, fifos, sqlite, git).
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
            getfattr -R -d -m - --absolute-names xattrs links 2>/dev/null
            """;

    /** What the manifest cannot show; prints one line per check. */
    private static final String SEMANTICS = """
            test "$(stat -c %i links/orig)" = "$(stat -c %i links/hard)" && echo hard-link-one-inode
            stat -c '%h %s' links/orig links/hard | uniq
            readlink links/soft; cat links/soft
            test -p pipe && { (echo again > pipe &); read -r line < pipe; echo "fifo $line"; }
            getfattr --only-values -n user.color xattrs/f; echo
            getfattr -n user.gone xattrs/f >/dev/null 2>&1 || echo user.gone-absent
            stat -c '%u:%g %a' links/m
            sqlite3 db.sqlite "select count(*), sum(id) from t; pragma integrity_check;"
            (cd repo && git fsck --full --strict 2>&1 && git log --oneline | wc -l && git status --porcelain | wc -l)
            test -d "$(printf 'n%.0s' $(seq 1 255))/ok" && echo long-name-dir
            """;

    private static final String SEMANTICS_EXPECTED = """
            hard-link-one-inode
            2 9
            orig
            one
            more
            fifo again
            blue
            user.gone-absent
            1234:4321 751
            3000|4501500
            ok
            2
            0
            long-name-dir""";

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
    @Order(1)
    void cpArchiveOfATreeKeepsContentModesOwnersLinksAndTimes() {
        fs.sh("""
                src=%1$s/src; mkdir -p $src/a/b/c $src/empty "$src/with space/x"
                for i in $(seq 1 200); do head -c $((i * 97)) /dev/urandom > $src/a/f$i; done
                for i in $(seq 1 20); do head -c 70000 /dev/urandom > $src/a/b/c/g$i; done
                echo s > "$src/with space/x/file name"; : > $src/a/zero-length
                chmod 600 $src/a/f1; chmod 755 $src/a/f2; chmod 2750 $src/a/f3; chmod 700 $src/a/b; chmod 1777 $src/empty
                chown 1234:1234 $src/a/f4; ln $src/a/f5 $src/a/f5.hard
                ln -s a/f3 $src/link; ln -s /nonexistent $src/dangling
                touch -d '2001-02-03 04:05:06.123456789' $src/a/f6
                cp -a $src ./copy
                diff -r --no-dereference $src ./copy
                meta() { cd "$1" && find . \\( -type d -printf '%%p d %%U %%G %%T@\\n' \\) -o \\( ! -type d -printf '%%p %%y %%U %%G %%n %%s %%T@ %%l\\n' \\) | LC_ALL=C sort; }
                diff <(meta $src) <(meta ./copy)
                test "$(stat -c %%i copy/a/f5)" = "$(stat -c %%i copy/a/f5.hard)"
                modes() { cd "$1" && find . -printf '%%p %%m\\n' | LC_ALL=C sort; }
                if ! diff <(modes $src) <(modes ./copy) > %1$s/modes.diff; then
                  echo "cp -a left wrong modes ($(grep -c '^>' %1$s/modes.diff) paths), e.g.:"; head -n 6 %1$s/modes.diff
                  echo "extended attributes of copy/a/f2:"; getfattr -d -m - --absolute-names copy/a/f2; exit 1
                fi
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
    void gitInitAddCommitGcLogFsck() {
        String out = fs.sh("""
                export HOME=%s GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
                git init -q repo && cd repo
                cp -r ../copy/a . && git add -A && git commit -q -m first
                echo change >> a/f5 && git commit -q -am second
                git gc -q
                git log --oneline | wc -l
                git fsck --full --strict 2>&1
                git status --porcelain | wc -l
                """.formatted(fs.root));
        assertEquals("2\n0", out.trim(), "git log count, fsck output, dirty files");
    }

    @Test
    @Order(5)
    void linksMovesModesOwnersTimesAndXattrs() {
        fs.sh("""
                mkdir -p links moved/deep xattrs
                echo one > links/orig; ln links/orig links/hard
                test "$(stat -c %%i links/orig)" = "$(stat -c %%i links/hard)"
                test "$(stat -c %%h links/orig)" = 2
                echo more >> links/hard; test "$(stat -c %%s links/orig)" = 9; test "$(tail -n 1 links/orig)" = more
                ln -s orig links/soft; test "$(readlink links/soft)" = orig; test "$(head -n 1 links/soft)" = one
                mv copy/a/b moved/deep/; test -d moved/deep/b/c; test ! -e copy/a/b
                mv copy/a/f7 moved/; test -f moved/f7; test ! -e copy/a/f7
                echo new > links/replacement; mv links/replacement copy/a/f8; test "$(cat copy/a/f8)" = new
                mkdir -p nonempty/x target/y; if mv -T target nonempty 2>%1$s/err; then exit 1; fi; grep -q 'not empty' %1$s/err
                echo m > links/m; chmod 4751 links/m; test "$(stat -c %%a links/m)" = 4751
                chown 1234:4321 links/m; test "$(stat -c %%u:%%g links/m)" = 1234:4321; chmod 751 links/m
                touch -d '2001-02-03 04:05:06' links/m; test "$(stat -c %%Y links/m)" = "$(date -d '2001-02-03 04:05:06' +%%s)"
                echo x > xattrs/f
                setfattr -n user.color -v blue xattrs/f; setfattr -n user.gone -v x xattrs/f; setfattr -n user.dir -v d xattrs
                test "$(getfattr --only-values -n user.color xattrs/f)" = blue
                test "$(getfattr -d --absolute-names xattrs/f | grep -c '^user\\.')" = 2
                setfattr -x user.gone xattrs/f
                if getfattr -n user.gone xattrs/f 2>%1$s/err; then exit 1; fi; grep -q 'No such attribute' %1$s/err
                if setfattr -x user.never xattrs/f 2>%1$s/err; then exit 1; fi; grep -q 'No such attribute' %1$s/err
                """.formatted(fs.root));
    }

    @Test
    @Order(6)
    void randomWritesWithDdAndMmapMatchAPlainFile() {
        fs.sh("""
                ref=%1$s/ref.bin
                head -c 3000000 /dev/urandom > $ref; cp $ref rw.bin
                for i in $(seq 1 40); do
                  off=$(( (RANDOM * 32768 + RANDOM) %% 9000000 )); len=$(( RANDOM %% 70000 + 1 )); blk=$(( RANDOM %% 2500 ))
                  head -c $len /dev/urandom > %1$s/chunk
                  for f in $ref rw.bin; do
                    dd if=%1$s/chunk of=$f bs=$len seek=$off oflag=seek_bytes conv=notrunc status=none
                    dd if=%1$s/chunk of=$f bs=4096 count=1 seek=$blk conv=notrunc status=none
                  done
                done
                cmp $ref rw.bin
                for f in $ref rw.bin; do
                  python3 -c 'import mmap, sys
                with open(sys.argv[1], "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
                    m[4000:4100] = bytes(range(100)); m[2_500_000:2_500_005] = b"mmap!"; m.flush()' $f
                done
                cmp $ref rw.bin
                """.formatted(fs.root));
    }

    @Test
    @Order(7)
    void truncateGrowsWithZerosAndShrinks() {
        fs.sh("""
                head -c 5000000 /dev/urandom > tr.bin; head -c 1000 tr.bin > %1$s/tr.head
                truncate -s 1000 tr.bin; cmp tr.bin %1$s/tr.head
                truncate -s 9000000 tr.bin; test "$(stat -c %%s tr.bin)" = 9000000
                tail -c 8999000 tr.bin | cmp - <(head -c 8999000 /dev/zero)
                truncate -s 6000000 sparse.bin; cmp sparse.bin <(head -c 6000000 /dev/zero)
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
                dd if=/dev/urandom of=%1$s/big.src bs=1M count=512 status=none
                cp %1$s/big.src big.bin
                sha256sum < %1$s/big.src > %1$s/big.sum; rm %1$s/big.src
                sha256sum < big.bin | cmp - %1$s/big.sum
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
    void anUnlinkedOpenFileStaysReadableWithCat() {
        String out = fs.sh("""
                head -c 3000000 /dev/urandom > open.bin; sha256sum < open.bin > %1$s/open.sum
                exec 3< open.bin; rm open.bin
                cat <&3 | sha256sum | cmp - %1$s/open.sum && echo still-readable; exec 3<&-
                test ! -e open.bin; ls -a | grep -c fuse_hidden || true
                """.formatted(fs.root));
        assertEquals("still-readable\n0", out.trim());
    }

    @Test
    @Order(12)
    void rmdirOfANonEmptyDirectoryAndOverlongNamesFail() {
        String out = fs.sh("""
                mkdir full; touch full/x; { rmdir full 2>&1 || true; } | grep -c 'not empty'
                { touch "$(printf 'n%.0s' $(seq 1 256))" 2>&1 || true; } | grep -c 'File name too long'
                { mkdir "$(printf 'n%.0s' $(seq 1 256))" 2>&1 || true; } | grep -c 'File name too long'
                mkdir -p $(printf 'n%.0s' $(seq 1 255))/ok && echo 255-bytes-ok
                """);
        assertEquals("1\n1\n1\n255-bytes-ok", out.trim());
    }

    @Test
    @Order(20)
    void everythingSurvivesARemount() throws Exception {
        manifest = fs.sh(MANIFEST);
        assertTrue(manifest.contains(bigSum() + "  ./big.bin"), "big.bin changed before the remount");
        fs.remount();
        assertEquals(manifest, fs.sh(MANIFEST));
        assertEquals(SEMANTICS_EXPECTED, fs.sh(SEMANTICS).trim());
        fs.sh("echo written-after-remount > after-remount; cat after-remount >> links/hard");
        manifest = fs.sh(MANIFEST);
    }

    @Test
    @Order(21)
    void everythingSurvivesAnEmptyCacheDirectory() throws Exception {
        fs.remountWithEmptyCache();
        assertEquals(manifest, fs.sh(MANIFEST));
        assertTrue(manifest.contains(bigSum() + "  ./big.bin"), "big.bin changed");
        assertEquals(SEMANTICS_EXPECTED.replace("2 9\n", "2 31\n").replace("more\n", "more\nwritten-after-remount\n"),
                fs.sh(SEMANTICS).trim());
    }

    private String bigSum() throws Exception {
        return Files.readString(fs.root.resolve("big.sum")).replace("-", "").trim();
    }
}
