/**
 * The S3 target: the only code that knows the AWS SDK. Maps SDK failures to the store's typed
 * exceptions with sentences a user can act on, and never puts a credential into a message.
 */
package io.stratafs.store.s3;
