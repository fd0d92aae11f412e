/** Configuration values and their validation: sizes, the volume record. Knows no other layer. */
package io.stratafs.config;
