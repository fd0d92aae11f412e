#!/usr/bin/env bash
# One command from a fresh Debian machine to a mounted StrataFS on the embedded local store:
# installs libfuse when missing, builds the jar when missing, formats a store once, mounts it.
# Usage (as root): bash mount-scripts/quickstart.sh [MOUNTPOINT] [STORE_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mnt="${1:-/mnt/stratafs}"
store="${2:-/var/lib/stratafs/default-store}"

missing=()
for pkg in libfuse2 fuse3; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get install -y "${missing[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${missing[@]}"; }
fi
if [ ! -f "$here/../target/stratafs.jar" ]; then
  (cd "$here/.." && mvn -B -q -DskipTests package)
fi
mkdir -p "$mnt" "$store"
if [ ! -f "$store/stratafs.volume" ]; then
  "$here/stratafs" format "$store" --name default
fi
"$here/stratafs" mount "$store" "$mnt"
echo "StrataFS is mounted at $mnt. Unmount with: $here/stratafs umount $mnt"
