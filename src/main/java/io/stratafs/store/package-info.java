/**
 * Storage targets: the {@link io.stratafs.store.ObjectStore} interface, the embedded local-directory
 * store, an in-memory fake for tests, and the S3 store (in {@code store.s3}, the only code that
 * knows the AWS SDK), and {@code MeasuredStore}, which times and counts every request into the
 * volume's metrics. Owns object I/O only; knows nothing of inodes, caches or LMDB.
 */
package io.stratafs.store;
