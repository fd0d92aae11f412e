package io.stratafs.sync;

/**
 * A last-writer-wins register: a value and the operation that set it. Of two writes the one with the
 * larger {@link OpId} wins, whatever order they arrive in.
 */
public record Register<T>(T value, OpId stamp) {
    /** This register after a write of {@code value} by {@code by}: unchanged if it already holds a later write. */
    public Register<T> set(T v, OpId by) {
        return by.after(stamp) ? new Register<>(v, by) : this;
    }
}
