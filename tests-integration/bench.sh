#!/usr/bin/env bash
# StrataFS benchmark: `stratafs bench` (the workloads users run to report figures) on a plain
# directory, on bindfs over a plain directory (a C FUSE passthrough, for the cost of FUSE itself) and
# on a StrataFS mount (embedded local-directory store), side by side in one run; then StrataFS on
# S3Proxy against a plain S3 client. Not part of the test suite; prints figures.
# Usage (as root, after `mvn -B -DskipTests package`): tests-integration/bench.sh [SIZE_MIB] [FILES]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
launcher="$here/../mount-scripts/stratafs"
size_mib="${1:-1024}"
files="${2:-5000}"
work="$(mktemp -d /tmp/stratafs-bench.XXXXXX)"
mnt="$work/mnt"; plain="$work/plain"; bind="$work/bindfs"; mkdir -p "$mnt" "$plain" "$bind" "$work/store" "$work/bind-src"
src="/dev/shm/stratafs-bench-src.$$"

s3mnt="$work/s3mnt"; mkdir -p "$s3mnt"
cleanup() {
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
bench() { "$launcher" bench "$1" --size "${size_mib}M" --files "$files" --json > "$2"; }

command -v bindfs >/dev/null || apt-get install -y bindfs >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y bindfs >/dev/null; }
bindfs "$work/bind-src" "$bind"
"$launcher" format "$work/store" >/dev/null
"$launcher" mount "$work/store" "$mnt" --cache-dir "$work/cache" >/dev/null

sample_rss() {  # follows the StrataFS daemon while its bench runs
  local pid; pid=$(cat "$work/cache/stratafs.pid")
  while kill -0 "$pid" 2>/dev/null; do
    local kb; kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$(cat "$work/rss" 2>/dev/null || echo 0)" ] && echo "$kb" > "$work/rss"
    sleep 0.2
  done
}

echo "stratafs bench --size ${size_mib}M --files $files: plain directory, bindfs, StrataFS..." >&2
bench "$plain" "$work/plain.json"
bench "$bind" "$work/bindfs.json"
echo 0 > "$work/rss"; sample_rss & sampler=$!
bench "$mnt" "$work/strata.json"
kill "$sampler" 2>/dev/null || true
peak_rss_mib=$(( $(cat "$work/rss") / 1024 ))

python3 - "$work/plain.json" "$work/bindfs.json" "$work/strata.json" <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
vals = [{r["workload"]: r for r in run["results"]} for run in runs]
print("\n%-66s %10s %10s %10s %7s" % ("workload", "plain dir", "bindfs", "StrataFS", "ratio"))
for w, r in vals[0].items():
    p, b, s = (v[w]["value"] for v in vals)
    print("%-66s %10s %10s %10s %7.2f" % (r["description"] + " (" + r["unit"] + ")", p, b, s, s / p if p else 0))
PY
echo "StrataFS daemon peak RSS (VmRSS, sampled every 0.2 s) during its bench: ${peak_rss_mib} MiB"

# ---- S3 column: StrataFS on S3Proxy (127.0.0.1) against a plain S3 client (rclone) -------------
[ "${BENCH_S3:-1}" = 1 ] || exit 0
head -c "$((size_mib * 1048576))" /dev/urandom > "$src"
jar="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$jar" ] || mvn -q -B dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies >/dev/null
command -v rclone >/dev/null || apt-get install -y rclone >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y rclone >/dev/null; }
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
"$launcher" format s3://bench/strata "${s3opts[@]}" >/dev/null
"$launcher" mount s3://bench/strata "$s3mnt" --cache-dir "$work/s3cache" --cache-size 4G "${s3opts[@]}" >/dev/null

pending() { "$launcher" status "$s3mnt" --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["pendingBlocks"] + s["pendingJournalEntries"])'; }
drop_caches
t0=$(now); dd if="$src" of="$s3mnt/big" bs=1M conv=fsync status=none; t1=$(now)
while [ "$(pending)" != 0 ]; do sleep 0.1; done; t2=$(now)
s3_write=$(rate "$size_mib" "$t0" "$t1"); s3_drain=$(rate "$size_mib" "$t0" "$t2")

t0=$(now)
env -u AWS_CA_BUNDLE RCLONE_CONFIG_S3P_TYPE=s3 RCLONE_CONFIG_S3P_PROVIDER=Other RCLONE_CONFIG_S3P_ENDPOINT="http://127.0.0.1:$port" \
  RCLONE_CONFIG_S3P_ACCESS_KEY_ID=bench-access RCLONE_CONFIG_S3P_SECRET_ACCESS_KEY=bench-secret-0123456789 \
  rclone copyto "$src" s3p:bench/rclone/big --s3-upload-concurrency 8 --s3-chunk-size 16M
t1=$(now); rclone_put=$(rate "$size_mib" "$t0" "$t1")

"$launcher" umount "$s3mnt" >/dev/null
"$launcher" mount s3://bench/strata "$s3mnt" --cache-dir "$work/s3cache-empty" "${s3opts[@]}" >/dev/null
drop_caches
t0=$(now); dd if="$s3mnt/big" of=/dev/null bs=1M status=none; t1=$(now); s3_cold=$(rate "$size_mib" "$t0" "$t1")
"$launcher" umount "$s3mnt" >/dev/null

printf '\n%-52s %10s\n' "StrataFS on S3Proxy (127.0.0.1)" "MiB/s"
printf '%-52s %10s\n' "write ${size_mib} MiB into the cache (dd conv=fsync)" "$s3_write"
printf '%-52s %10s\n' "write + drain the backlog until all is uploaded" "$s3_drain"
printf '%-52s %10s\n' "plain S3 client: rclone copyto of the same file" "$rclone_put"
printf '%-52s %10s\n' "cold sequential read from S3 (empty cache dir)" "$s3_cold"
