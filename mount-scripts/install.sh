#!/usr/bin/env bash
# Installs StrataFS for operators: libfuse, the jar in /usr/local/lib/stratafs, the launcher as
# /usr/local/bin/stratafs, the mount(8) helper as /sbin/mount.stratafs and the systemd unit
# template. Run from a source tree as root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for pkg in libfuse2 fuse3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get install -y "$pkg" || { apt-get update && apt-get install -y "$pkg"; }; }
done
[ -f "$here/../target/stratafs.jar" ] || (cd "$here/.." && mvn -B -q -DskipTests package)
install -d /usr/local/lib/stratafs
install -m 0644 "$here/../target/stratafs.jar" /usr/local/lib/stratafs/stratafs.jar
install -m 0755 "$here/stratafs" /usr/local/lib/stratafs/stratafs
ln -sf /usr/local/lib/stratafs/stratafs /usr/local/bin/stratafs
# mount(8) looks for helpers only in /sbin; the helper finds the launcher beside its real path
install -m 0755 "$here/mount.stratafs" /usr/local/lib/stratafs/mount.stratafs
ln -sf /usr/local/lib/stratafs/mount.stratafs /sbin/mount.stratafs
install -m 0644 "$here/stratafs@.service" /etc/systemd/system/stratafs@.service
install -m 0644 "$here/stratafs-sync@.service" /etc/systemd/system/stratafs-sync@.service
systemctl daemon-reload 2>/dev/null || true
echo "installed: /usr/local/bin/stratafs, /sbin/mount.stratafs, /etc/systemd/system/stratafs@.service (Type=notify; start a volume with: systemctl enable --now stratafs@NAME), /etc/systemd/system/stratafs-sync@.service (a site without a mount: systemctl enable --now stratafs-sync@NAME)"
