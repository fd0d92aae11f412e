package io.stratafs.vfs;

/**
 * What the kernel may hold about the namespace beyond what it asked for itself: with attribute and
 * entry caching on, it trusts a name, an inode's attributes and its cached pages for their timeout.
 * Changes the kernel made through this mount it already accounts for; changes made elsewhere
 * (another site's, applied by the sync daemon) are announced here so the kernel asks again at once.
 *
 * <p>Calls return without waiting for the kernel: the kernel may hold a directory's lock while a
 * FUSE call on it waits for a lock the announcer holds.
 */
public interface KernelCache {
    /** Announces nothing: no kernel (unit tests, a site without a mount). */
    KernelCache NONE = new KernelCache() {
        @Override
        public void entryChanged(long parent, String name) {
        }

        @Override
        public void inodeChanged(long ino) {
        }
    };

    /** The name {@code name} in directory {@code parent} now names another inode, or none. */
    void entryChanged(long parent, String name);

    /** The attributes of inode {@code ino}, or its content, changed. */
    void inodeChanged(long ino);
}
