package io.stratafs.meta;

/** One change to a journaled table: a put (value non-null) or a delete (value null). */
public record Mutation(Table table, byte[] key, byte[] value) {
    public boolean isDelete() {
        return value == null;
    }
}
