package io.stratafs.fuse.lowlevel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * The binding's layout assumptions against libfuse 2.9's headers on x86_64 glibc: the ops struct's
 * order and size, and that jnr-fuse's structures put each field where the C structs have it.
 */
class LayoutTest {
    private final Runtime runtime = Runtime.getSystemRuntime();

    @Test
    void opsStructHasTheFortyOneMembersOfTheHeaderInOrder() {
        assertEquals(41, OpsSlot.values().length);
        assertEquals(328, OpsSlot.values().length * runtime.addressSize());
        assertEquals(2, OpsSlot.LOOKUP.ordinal());
        assertEquals(16, OpsSlot.WRITE.ordinal());
        assertEquals(21, OpsSlot.READDIR.ordinal());
        assertEquals(30, OpsSlot.CREATE.ordinal());
        assertEquals(38, OpsSlot.FORGET_MULTI.ordinal());
        assertEquals(40, OpsSlot.FALLOCATE.ordinal());
    }

    @Test
    void fileStatMatchesStructStat() {
        Pointer p = Memory.allocateDirect(runtime, 256, true);
        FileStat st = FileStat.of(p);
        new Attr(0x1111, 0100644, 2, 7, 8, 0x5555, 1_000_000_003L, 2_000_000_004L, 3_000_000_005L, 0x0807, 4096).fill(p, 0);
        assertEquals(Request.STAT_BYTES, Struct.size(st));
        // read back through jnr-fuse's FileStat, whose layout is the header's: our offsets must agree
        assertEquals(0x1111, st.st_ino.longValue(), "st_ino");
        assertEquals(2, st.st_nlink.longValue(), "st_nlink");
        assertEquals(0100644, st.st_mode.intValue(), "st_mode");
        assertEquals(7, st.st_uid.intValue(), "st_uid");
        assertEquals(8, st.st_gid.intValue(), "st_gid");
        assertEquals(0x0807, st.st_rdev.longValue(), "st_rdev");
        assertEquals(0x5555, st.st_size.longValue(), "st_size");
        assertEquals(4096, st.st_blksize.longValue(), "st_blksize");
        assertEquals(43, st.st_blocks.longValue(), "st_blocks");
        assertEquals(1, st.st_atim.tv_sec.get(), "st_atim.tv_sec");
        assertEquals(3, st.st_atim.tv_nsec.longValue(), "st_atim.tv_nsec");
        assertEquals(2, st.st_mtim.tv_sec.get(), "st_mtim.tv_sec");
        assertEquals(4, st.st_mtim.tv_nsec.longValue(), "st_mtim.tv_nsec");
        assertEquals(3, st.st_ctim.tv_sec.get(), "st_ctim.tv_sec");
        assertEquals(5, st.st_ctim.tv_nsec.longValue(), "st_ctim.tv_nsec");
        assertEquals(0x1111, p.getLong(8), "st_ino");
        assertEquals(2, p.getLong(16), "st_nlink");
        assertEquals(0100644, p.getInt(24), "st_mode");
        assertEquals(7, p.getInt(28), "st_uid");
        assertEquals(8, p.getInt(32), "st_gid");
        assertEquals(0x5555, p.getLong(48), "st_size");
        assertEquals(4096, p.getLong(56), "st_blksize");
        assertEquals(1, p.getLong(72), "st_atim.tv_sec");
        assertEquals(3, p.getLong(80), "st_atim.tv_nsec");
        assertEquals(2, p.getLong(88), "st_mtim.tv_sec");
        assertEquals(3, p.getLong(104), "st_ctim.tv_sec");
    }

    @Test
    void fuseFileInfoMatchesTheHeader() {
        Pointer p = Memory.allocateDirect(runtime, 64, true);
        OpenFile fi = new OpenFile(p);
        fi.fh(0x0123456789abcdefL);
        fi.keepCache(true);
        p.putInt(0, 02);
        assertEquals(40, Struct.size(FuseFileInfo.of(p)));
        assertEquals(0x0123456789abcdefL, p.getLong(24), "fh");
        assertEquals(0b10, p.getInt(OpenFile.BITS_OFFSET), "keep_cache is bit 1 after direct_io");
        assertEquals(02, fi.flags());
    }

    @Test
    void namesAreDecodedAsUtf8UpToTheirNul() {
        byte[] name = "caf\u00e9 \u65e5\u672c.txt".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Pointer p = Memory.allocateDirect(runtime, name.length + 8, true);
        p.put(0, name, 0, name.length);
        p.putByte(name.length, (byte) 0);
        p.putByte(name.length + 1, (byte) 'x');
        assertEquals("caf\u00e9 \u65e5\u672c.txt", LowLevelMount.str(p));
    }

    @Test
    void openFileOffsetsAreWhereJnrFusePutsFlagsAndFh() {
        Pointer p = Memory.allocateDirect(runtime, 64, true);
        FuseFileInfo info = FuseFileInfo.of(p);
        info.flags.set(0101);
        info.fh.set(0x7edcba9876543210L);
        OpenFile fi = new OpenFile(p);
        assertEquals(0101, fi.flags());
        assertEquals(0x7edcba9876543210L, fi.fh());
        assertEquals(0x7edcba9876543210L, OpenFile.fhOf(p));
        assertEquals(0, OpenFile.fhOf(null), "a call without a file info has handle 0");
    }

    @Test
    void theOpenReplyIsTheKernelsOutHeaderThenFuseOpenOut() {
        // linux/fuse.h: fuse_out_header {u32 len; s32 error; u64 unique}, fuse_open_out {u64 fh; u32 open_flags; s32 backing_id}
        Pointer p = Memory.allocateDirect(runtime, Request.OPEN_REPLY_BYTES, true);
        Request.openReply(p, 0x0102030405060708L, 0x1112131415161718L, Request.FOPEN_NOFLUSH | Request.FOPEN_KEEP_CACHE);
        assertEquals(32, Request.OPEN_REPLY_BYTES);
        assertEquals(32, p.getInt(0), "len: the whole reply");
        assertEquals(0, p.getInt(4), "error");
        assertEquals(0x0102030405060708L, p.getLong(8), "unique");
        assertEquals(0x1112131415161718L, p.getLong(16), "fh");
        assertEquals((1 << 5) | (1 << 1), p.getInt(24), "FOPEN_NOFLUSH | FOPEN_KEEP_CACHE");
        assertEquals(0, p.getInt(28));
    }

    @Test
    void openFileFlagBitsReadBackAsSet() {
        OpenFile fi = new OpenFile(Memory.allocateDirect(runtime, 64, true));
        fi.keepCache(true);
        fi.noFlush(true);
        assertEquals(true, fi.keepCache());
        assertEquals(false, fi.directIo());
        assertEquals(true, fi.noFlush());
        fi.directIo(true);
        assertEquals(true, fi.directIo());
    }

    @Test
    void statvfsMatchesTheHeader() {
        Pointer p = Memory.allocateDirect(runtime, 128, true);
        Statvfs s = Statvfs.of(p);
        s.f_bsize.set(4096);
        s.f_files.set(99);
        s.f_namemax.set(255);
        assertEquals(Request.STATVFS_BYTES, Struct.size(s));
        assertEquals(4096, p.getLong(0));
        assertEquals(99, p.getLong(40));
        assertEquals(255, p.getLong(80));
    }
}
