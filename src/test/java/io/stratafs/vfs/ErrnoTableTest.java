package io.stratafs.vfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.DirtyLimitException;
import io.stratafs.meta.CacheFullException;
import org.junit.jupiter.api.Test;

/** The one errno table: typed errors keep their errno, anything unexpected is an EIO worth a log line. */
class ErrnoTableTest {
    @Test
    void anIllegalArgumentIsAnUnexpectedEioNotAQuietEinval() {
        IllegalArgumentException bug = new IllegalArgumentException("corrupt journal record");
        assertEquals(Errno.EIO, ErrnoTable.errno(bug));
        assertTrue(ErrnoTable.unexpected(bug));
        FsException e = ErrnoTable.toFsException(bug);
        assertEquals(Errno.EIO, e.errno());
        assertSame(bug, e.getCause());
    }

    @Test
    void aGenuineEinvalIsThrownAsOneAndIsExpected() {
        FsException einval = new FsException(Errno.EINVAL, "negative size");
        assertEquals(Errno.EINVAL, ErrnoTable.errno(einval));
        assertFalse(ErrnoTable.unexpected(einval));
        assertSame(einval, ErrnoTable.toFsException(einval));
    }

    @Test
    void lowerLayerErrorsMapToTheirErrno() {
        assertEquals(Errno.ENOSPC, ErrnoTable.errno(new DirtyLimitException("over the dirty limit")));
        assertEquals(Errno.ENOSPC, ErrnoTable.errno(new CacheFullException("cache full", null)));
        assertEquals(Errno.EIO, ErrnoTable.errno(new BlockUnavailableException("no good copy")));
        assertFalse(ErrnoTable.unexpected(new BlockUnavailableException("no good copy")));
        assertEquals(Errno.EIO, ErrnoTable.errno(new OutOfMemoryError("test")));
        assertTrue(ErrnoTable.unexpected(new OutOfMemoryError("test")));
    }
}
