#!/bin/bash
# Builds tests-integration/nullfs.c against libfuse 2 and libfuse 3 and measures each: dd of 1 GiB
# in 1 MiB calls into and out of its null file, three mounts each, interleaved, with the largest
# request the filesystem saw and the load average. Needs root, gcc, libfuse-dev and libfuse3-dev
# (apt-get install gcc libfuse-dev libfuse3-dev). Prints seconds; 1 GiB / seconds = GiB/s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/stratafs-nullfs-XXXXXX)
mnt="$work/mnt"
mkdir "$mnt"
pid=
cleanup() {
    if grep -q " $mnt " /proc/mounts; then fusermount -u -z "$mnt" || true; fi
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
gcc -O2 -Wall -D_FILE_OFFSET_BITS=64 -o "$work/nullfs2" "$here/nullfs.c" -lfuse
gcc -O2 -Wall -DFUSE3=1 -o "$work/nullfs3" "$here/nullfs.c" $(pkg-config --cflags --libs fuse3)

one() {
    local name=$1 opts=$2
    "$work/$name" "$mnt" "$opts" 2>"$work/stderr" &
    pid=$!
    for _ in $(seq 100); do grep -q " $mnt " /proc/mounts && break; sleep 0.1; done
    if ! grep -q " $mnt " /proc/mounts; then
        echo "$name did not mount $mnt: $(cat "$work/stderr")" >&2
        exit 1
    fi
    local w r
    w=$(dd if=/dev/zero of="$mnt/big" bs=1M count=1024 conv=notrunc 2>&1 | awk '/copied/{print $(NF-3)}')
    r=$(dd if="$mnt/big" of=/dev/null bs=1M 2>&1 | awk '/copied/{print $(NF-3)}')
    fusermount -u "$mnt"
    wait "$pid"
    pid=
    echo "$name write ${w}s read ${r}s; $(cat "$work/stderr"); load $(cut -d' ' -f1-3 /proc/loadavg)"
}

for _ in 1 2 3; do
    one nullfs2 big_writes,max_write=131072,max_read=131072,max_readahead=1048576,fsname=nullfs2
    one nullfs3 fsname=nullfs3
done
