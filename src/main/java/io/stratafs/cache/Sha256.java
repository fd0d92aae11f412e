package io.stratafs.cache;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 with one digest per thread (MessageDigest is not thread-safe and costly to create). */
public final class Sha256 {
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    });

    private Sha256() {
    }

    public static byte[] of(byte[] data, int off, int len) {
        MessageDigest d = DIGEST.get();
        d.reset();
        d.update(data, off, len);
        return d.digest();
    }

    public static byte[] of(byte[] data) {
        return of(data, 0, data.length);
    }
}
