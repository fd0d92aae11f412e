package io.stratafs.ops;

/** Where fsck and gc report how far they are; the command line draws it as a bar on a terminal. */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void phase(String name, long total) {
        }

        @Override
        public void advance() {
        }
    };

    /** A new phase with {@code total} steps (0 when unknown). */
    void phase(String name, long total);

    /** One step of the current phase done. */
    void advance();
}
