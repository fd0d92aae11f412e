#!/usr/bin/env bash
# StrataFS benchmark: `stratafs bench` (the workloads users run to report figures) on a plain
# directory, on bindfs over a plain directory (a C FUSE passthrough, for the cost of FUSE itself) and
# on a StrataFS mount (embedded local-directory store), side by side in one run, each cell the median
# of RUNS runs, with the StrataFS / bindfs ratio; the daemon's memory while it writes the big file;
# then StrataFS on S3Proxy against rclone on the same S3Proxy. Not part of the test suite; prints figures.
# Usage (as root, after `mvn -B -DskipTests package`):
#   [RUNS=3] [BENCH_S3=1] [RSS_MIB=4096] tests-integration/bench.sh [SIZE_MIB] [FILES]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
launcher="$here/../mount-scripts/stratafs"
size_mib="${1:-1024}"
files="${2:-5000}"
runs="${RUNS:-3}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: RUNS must be a whole number of runs, 1 or more (got '$runs')" >&2; exit 2; }
work="$(mktemp -d /tmp/stratafs-bench.XXXXXX)"
mnt="$work/mnt"; plain="$work/plain"; bind="$work/bindfs"; mkdir -p "$mnt" "$plain" "$bind" "$work/store" "$work/bind-src"
src="/dev/shm/stratafs-bench-src.$$"

s3mnt="$work/s3mnt"; mkdir -p "$s3mnt"
cleanup() {
  if [ -n "${sampler:-}" ]; then kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true; fi
  for m in "$mnt" "$s3mnt"; do
    if grep -q " $m " /proc/mounts; then "$launcher" umount "$m" --no-flush >/dev/null 2>&1 || fusermount -u -z "$m"; fi
  done
  if grep -q " $bind " /proc/mounts; then fusermount -u -z "$bind"; fi
  if [ -n "${s3proxy_pid:-}" ]; then kill "$s3proxy_pid" 2>/dev/null; wait "$s3proxy_pid" 2>/dev/null || true; fi
  rm -rf "$work" "$src"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM HUP   # bash skips the EXIT trap on a fatal signal unless it is trapped

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bench() { "$launcher" bench "$1" --size "${size_mib}M" --files "$files" --json > "$2"; }
# Runs a command quietly; if it fails, says which, with what it printed, and fails (set -e then stops the run).
quiet() { local out; out=$("$@" 2>&1) || { echo "bench.sh: '$*' failed:" >&2; echo "$out" | tail -n 30 >&2; return 1; }; }
install() { command -v "$1" >/dev/null || apt-get install -y "$1" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$1" >/dev/null; }; }

# Largest RssAnon and RssFile (kB) of the process in pid file $1, written to $2 after every sample
# (LMDB's memory-mapped data file counts as RssFile: the kernel can drop those pages at any time).
sample_rss() {
  local pid anon=0 file=0 a f
  pid=$(cat "$1")
  echo "0 0" > "$2"
  while kill -0 "$pid" 2>/dev/null; do
    read -r a f < <(awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } END { print a + 0, f + 0 }' "/proc/$pid/status" 2>/dev/null || echo "0 0")
    [ "$a" -gt "$anon" ] && anon=$a
    [ "$f" -gt "$file" ] && file=$f
    echo "$anon $file" > "$2"
    sleep 0.1
  done
}
start_sampler() { sample_rss "$1" "$2" & sampler=$!; }
stop_sampler() { kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true; sampler=; }
mib_of() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

install bindfs
# big_writes: without it libfuse 2 (which bindfs 1.14 uses) splits writes into 4 KiB requests, and the
# baseline would be FUSE at its slowest rather than a C passthrough as users mount one.
bindfs -o big_writes "$work/bind-src" "$bind"
quiet "$launcher" format "$work/store"
quiet "$launcher" mount "$work/store" "$mnt" --cache-dir "$work/cache"
head -c "$((size_mib * 1048576))" /dev/urandom > "$src"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "stratafs bench --size ${size_mib}M --files $files, $runs run(s) of plain directory, bindfs, StrataFS in turn..." >&2
for r in $(seq 1 "$runs"); do
  echo "  run $r of $runs" >&2
  bench "$plain" "$work/plain.$r.json"
  bench "$bind" "$work/bindfs.$r.json"
  bench "$mnt" "$work/strata.$r.json"
done

# The daemon's memory while it writes RSS_MIB (default 4 GiB, issue 9's aim) of fresh random bytes,
# fsync at the end (random, so no two blocks are the same and nothing is deduplicated).
rss_mib=${RSS_MIB:-4096}
drop_caches
start_sampler "$work/cache/stratafs.pid" "$work/rss"
t0=$(now); head -c "$((rss_mib * 1048576))" /dev/urandom | dd of="$mnt/rss-big" bs=1M iflag=fullblock conv=fsync status=none; t1=$(now)
stop_sampler
read -r rss_anon rss_file < "$work/rss"
rss_write=$(rate "$rss_mib" "$t0" "$t1")
rm -f "$mnt/rss-big"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "stratafs bench --size ${size_mib}M --files $files; every cell is the median of $runs run(s);"
echo "$(nproc) cores; load average (1, 5, 15 min) $load_start at the start, $load_end at the end"
python3 - "$runs" "$work" <<'PY'
import json, statistics, sys
runs, work = int(sys.argv[1]), sys.argv[2]
short = {"sequential-write": "seq write", "sequential-read": "seq read", "create": "create",
         "stat": "stat", "read": "read 4k", "delete": "delete", "unpack-tree": "unpack", "remove-tree": "rm tree"}
cols = [("plain directory", "plain"), ("bindfs", "bindfs"), ("StrataFS", "strata")]
data, order, meta = {}, [], {}
for _, key in cols:
    for r in range(1, runs + 1):
        for res in json.load(open("%s/%s.%d.json" % (work, key, r)))["results"]:
            w = res["workload"]
            if w not in meta:
                order.append(w)
                meta[w] = res
            data.setdefault((key, w), []).append(res["value"])
med = {k: statistics.median(v) for k, v in data.items()}
fmt = lambda v, unit: ("%.1f" if unit == "MiB/s" else "%.0f") % v
head = ["%s %s" % (short.get(w, w), "MiB/s" if meta[w]["unit"] == "MiB/s" else "f/s") for w in order]
print("\n| | " + " | ".join(head) + " |")
print("|---" * (len(order) + 1) + "|")
for name, key in cols:
    print("| %s | %s |" % (name, " | ".join(fmt(med[(key, w)], meta[w]["unit"]) for w in order)))
print("| StrataFS / bindfs | %s |" % " | ".join(
    "%.2f" % (med[("strata", w)] / med[("bindfs", w)]) if med[("bindfs", w)] else "-" for w in order))
if runs > 1:
    print("\nspread over the %d runs (lowest-highest):" % runs)
    for name, key in cols:
        print("  %-16s %s" % (name, "  ".join("%s %s-%s" % (short.get(w, w), fmt(min(data[(key, w)]), meta[w]["unit"]),
                                                           fmt(max(data[(key, w)]), meta[w]["unit"])) for w in order)))
print("\nworkloads: " + "; ".join("%s = %s" % (short.get(w, w), meta[w]["description"]) for w in order))
PY
echo
echo "StrataFS daemon while dd writes ${rss_mib} MiB from /dev/urandom (conv=fsync, $rss_write MiB/s), sampled every 0.1 s, largest:"
echo "  RssAnon $(mib_of "$rss_anon") MiB (heap, direct buffers, native); RssFile $(mib_of "$rss_file") MiB (mostly LMDB's mapped pages)"

# ---- S3: StrataFS on S3Proxy (127.0.0.1) against a plain S3 client (rclone) on the same S3Proxy --
[ "${BENCH_S3:-1}" = 1 ] || exit 0
quiet "$launcher" umount "$mnt"
jar="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$jar" ] || mvn -q -B -Dstyle.color=never dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies >/dev/null
install rclone
command -v getfattr >/dev/null || { apt-get install -y attr >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y attr >/dev/null; }; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/s3data/bench"
cat > "$work/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=bench-access
s3proxy.credential=bench-secret-0123456789
jclouds.provider=filesystem
jclouds.filesystem.basedir=$work/s3data
CONF
java -jar "$jar" --properties "$work/s3proxy.conf" > "$work/s3proxy.log" 2>&1 & s3proxy_pid=$!
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench-access AWS_SECRET_ACCESS_KEY=bench-secret-0123456789 AWS_EC2_METADATA_DISABLED=true
s3opts=(--endpoint "http://127.0.0.1:$port" --path-style)
# rclone fails on AWS_CA_BUNDLE (set for the AWS SDK on some machines): unset for rclone only.
rcl() {
  env -u AWS_CA_BUNDLE RCLONE_CONFIG=/dev/null RCLONE_CONFIG_S3P_TYPE=s3 RCLONE_CONFIG_S3P_PROVIDER=Other \
    RCLONE_CONFIG_S3P_ENDPOINT="http://127.0.0.1:$port" RCLONE_CONFIG_S3P_ACCESS_KEY_ID=bench-access \
    RCLONE_CONFIG_S3P_SECRET_ACCESS_KEY=bench-secret-0123456789 rclone "$@"
}
quiet "$launcher" format s3://bench/strata "${s3opts[@]}"
# Drained: the file's blocks are in the bucket, as its computed xattr says (README "Is this file safe?").
# A getfattr per poll, not `stratafs status`, which starts a JVM each time (0.4 CPU-s, over 1 s under load).
drained() { [ "$(getfattr --only-values -n user.stratafs.synced "$1" 2>/dev/null)" = yes ]; }

echo >&2; echo "S3Proxy: $runs run(s) of StrataFS write + drain, rclone copyto, StrataFS cold read, rclone cat..." >&2
s3_write=(); s3_drain=(); rclone_put=(); s3_cold=(); rclone_get=(); s3_anon=0; s3_file=0
for r in $(seq 1 "$runs"); do
  quiet "$launcher" mount s3://bench/strata "$s3mnt" --cache-dir "$work/s3cache" --cache-size 4G "${s3opts[@]}"
  drop_caches
  start_sampler "$work/s3cache/stratafs.pid" "$work/s3rss"
  t0=$(now)
  dd if="$src" of="$s3mnt/big.$r" bs=1M conv=fsync status=none || {
    echo "bench.sh: StrataFS's write to S3Proxy failed (run $r); the end of the daemon's log:" >&2
    tail -n 60 "$work/s3cache/stratafs.log" >&2; exit 1; }
  t1=$(now)
  deadline=$(( $(date +%s) + 3600 ))
  until drained "$s3mnt/big.$r"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench.sh: the S3 backlog did not drain within an hour" >&2; exit 1; }
    sleep 0.05
  done
  t2=$(now)
  stop_sampler
  read -r a f < "$work/s3rss"; [ "$a" -gt "$s3_anon" ] && s3_anon=$a; [ "$f" -gt "$s3_file" ] && s3_file=$f
  s3_write+=("$(rate "$size_mib" "$t0" "$t1")"); s3_drain+=("$(rate "$size_mib" "$t0" "$t2")")
  quiet "$launcher" umount "$s3mnt"
  rm -rf "$work/s3cache"

  drop_caches
  t0=$(now); rcl copyto "$src" "s3p:bench/rclone/big.$r" --s3-upload-concurrency 8 --s3-chunk-size 16M; t1=$(now)
  rclone_put+=("$(rate "$size_mib" "$t0" "$t1")")

  quiet "$launcher" mount s3://bench/strata "$s3mnt" --cache-dir "$work/s3cache-cold" "${s3opts[@]}"
  drop_caches
  t0=$(now); dd if="$s3mnt/big.$r" of=/dev/null bs=1M status=none; t1=$(now); s3_cold+=("$(rate "$size_mib" "$t0" "$t1")")
  quiet "$launcher" umount "$s3mnt"
  rm -rf "$work/s3cache-cold"

  drop_caches
  t0=$(now); rcl cat "s3p:bench/rclone/big.$r" > /dev/null; t1=$(now); rclone_get+=("$(rate "$size_mib" "$t0" "$t1")")
  quiet rcl deletefile "s3p:bench/rclone/big.$r"
done
m() { echo "$@" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
w=$(m "${s3_write[@]}"); d=$(m "${s3_drain[@]}"); p=$(m "${rclone_put[@]}"); c=$(m "${s3_cold[@]}"); g=$(m "${rclone_get[@]}")
printf '\nS3Proxy on 127.0.0.1, %s MiB of random data, median of %s run(s) (MiB/s):\n' "$size_mib" "$runs"
printf '| %s | %s | %s | %s |\n' "" "StrataFS" "rclone" "StrataFS / rclone"
printf '|---|---|---|---|\n'
printf '| %s | %s | %s | %s |\n' "write (dd conv=fsync) and drain the upload backlog / rclone copyto" "$d" "$p" "$(ratio "$d" "$p")"
printf '| %s | %s | %s | %s |\n' "cold sequential read (empty cache dir) / rclone cat" "$c" "$g" "$(ratio "$c" "$g")"
printf 'StrataFS write into its cache alone (dd conv=fsync returned): %s MiB/s\n' "$w"
printf 'StrataFS daemon while writing and draining, largest: RssAnon %s MiB, RssFile %s MiB\n' "$(mib_of "$s3_anon")" "$(mib_of "$s3_file")"
if [ "$runs" -gt 1 ]; then
  echo "runs: write+drain ${s3_drain[*]}; rclone copyto ${rclone_put[*]}; cold read ${s3_cold[*]}; rclone cat ${rclone_get[*]}"
fi
