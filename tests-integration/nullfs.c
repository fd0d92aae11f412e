/*
 * A null filesystem in C on libfuse's low-level API, built against libfuse 2 or 3, to measure what
 * the library and its request size cost without Java: one file "big" whose writes only grow its
 * size and whose reads return zeros. Single-threaded loop. On unmount it prints the largest read
 * and write request it saw. tests-integration/nullfs-bench.sh builds it both ways and measures.
 */
#if FUSE3
#define FUSE_USE_VERSION 35
#include <fuse3/fuse_lowlevel.h>
#else
#define FUSE_USE_VERSION 26
#include <fuse/fuse_lowlevel.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static off_t big_size;
static size_t max_read_seen, max_write_seen;
static char zeros[1 << 20];

static void fill(fuse_ino_t ino, struct stat *st) {
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    if (ino == 1) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | 0644;
        st->st_nlink = 1;
        st->st_size = big_size;
    }
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    if (parent != 1 || strcmp(name, "big") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param e;
    memset(&e, 0, sizeof(e));
    e.ino = 2;
    e.attr_timeout = 1.0;
    e.entry_timeout = 1.0;
    fill(2, &e.attr);
    fuse_reply_entry(req, &e);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    struct stat st;
    (void) fi;
    fill(ino, &st);
    fuse_reply_attr(req, &st, 1.0);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void) ino;
    (void) fi;
    if (size > max_read_seen) {
        max_read_seen = size;
    }
    size_t n = off >= big_size ? 0 : (size_t) (big_size - off) < size ? (size_t) (big_size - off) : size;
    fuse_reply_buf(req, zeros, n > sizeof(zeros) ? sizeof(zeros) : n);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
    (void) ino;
    (void) buf;
    (void) fi;
    if (size > max_write_seen) {
        max_write_seen = size;
    }
    if (off + (off_t) size > big_size) {
        big_size = off + size;
    }
    fuse_reply_write(req, size);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = ll_lookup,
    .getattr = ll_getattr,
    .read = ll_read,
    .write = ll_write,
};

int main(int argc, char *argv[]) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MOUNTPOINT OPTIONS\n", argv[0]);
        return 2;
    }
    char *args_v[] = {argv[0], "-o", argv[2], NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, args_v);
    int err = 1;
#if FUSE3
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
    if (se != NULL && fuse_session_mount(se, argv[1]) == 0) {
        err = fuse_session_loop(se);
        fuse_session_unmount(se);
    }
    if (se != NULL) {
        fuse_session_destroy(se);
    }
#else
    struct fuse_chan *ch = fuse_mount(argv[1], &args);
    if (ch != NULL) {
        struct fuse_session *se = fuse_lowlevel_new(&args, &ops, sizeof(ops), NULL);
        if (se != NULL) {
            fuse_session_add_chan(se, ch);
            err = fuse_session_loop(se);
            fuse_session_remove_chan(ch);
            fuse_session_destroy(se);
        }
        fuse_unmount(argv[1], ch);
    }
#endif
    fprintf(stderr, "largest read request %zu bytes, largest write request %zu bytes\n", max_read_seen, max_write_seen);
    return err ? 1 : 0;
}
