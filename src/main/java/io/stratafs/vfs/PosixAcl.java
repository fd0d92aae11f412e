package io.stratafs.vfs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * POSIX ACLs as libfuse 2 hands them to us: the kernel passes {@code system.posix_acl_access} and
 * {@code system.posix_acl_default} through as plain xattrs and enforces nothing but the mode bits
 * ({@code default_permissions}). So an access ACL with only the owner, group and other entries is
 * what it means on ext4, a chmod, and is not stored; an ACL with named users or groups could not be
 * enforced, and is refused with ENOTSUP rather than kept as a promise we break. Tools such as
 * {@code cp -a} and {@code rsync -A} then fall back to the mode bits.
 */
final class PosixAcl {
    static final String ACCESS = "system.posix_acl_access";
    static final String DEFAULT = "system.posix_acl_default";

    private static final int VERSION = 2;
    private static final int ENTRY_BYTES = 8;
    private static final int USER_OBJ = 0x01;
    private static final int GROUP_OBJ = 0x04;
    private static final int OTHER = 0x20;

    private PosixAcl() {
    }

    static boolean isAclName(String name) {
        return ACCESS.equals(name) || DEFAULT.equals(name);
    }

    /** The permission bits (0 to 0777) that a minimal access ACL in xattr form stands for. */
    static int permissionBits(byte[] xattr) throws FsException {
        if (xattr.length < 4 || (xattr.length - 4) % ENTRY_BYTES != 0) {
            throw new FsException(Errno.EINVAL, "malformed POSIX ACL of " + xattr.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(xattr).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt() != VERSION) {
            throw new FsException(Errno.EINVAL, "unknown POSIX ACL version");
        }
        int bits = 0;
        int seen = 0;
        while (b.hasRemaining()) {
            int tag = b.getShort() & 0xffff;
            int perm = b.getShort() & 7;
            b.getInt();
            switch (tag) {
                case USER_OBJ -> bits |= perm << 6;
                case GROUP_OBJ -> bits |= perm << 3;
                case OTHER -> bits |= perm;
                default -> throw new FsException(Errno.ENOTSUP, "ACLs with named users, groups or a mask are not supported");
            }
            if ((seen & tag) != 0) {
                throw new FsException(Errno.EINVAL, "POSIX ACL names one entry twice");
            }
            seen |= tag;
        }
        if (seen != (USER_OBJ | GROUP_OBJ | OTHER)) {
            throw new FsException(Errno.EINVAL, "POSIX ACL lacks an owner, group or other entry");
        }
        return bits;
    }
}
