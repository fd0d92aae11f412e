package io.stratafs.store.s3;

import io.stratafs.store.StoreException;

/** A bucket and an optional key prefix, from {@code s3://BUCKET[/PREFIX]}. */
public record S3Location(String bucket, String prefix) {
    public static S3Location parse(String url) throws StoreException {
        String rest = url.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1).replaceAll("/+$", "");
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new StoreException("\"" + bucket + "\" in " + url + " is not a valid bucket name (3-63 lowercase letters, digits, '.' or '-')");
        }
        return new S3Location(bucket, prefix);
    }

    /** The object key for a volume key. */
    String key(String volumeKey) {
        return prefix.isEmpty() ? volumeKey : prefix + "/" + volumeKey;
    }

    /** The volume key for an object key listed from the bucket. */
    String volumeKey(String objectKey) {
        return prefix.isEmpty() ? objectKey : objectKey.substring(prefix.length() + 1);
    }

    @Override
    public String toString() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }
}
