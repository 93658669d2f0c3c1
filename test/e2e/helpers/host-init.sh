#!/bin/sh
# First process of an e2e test host (see test-hosts.ts), started in the host's network namespace and in new mount
# and UTS namespaces: mounts the host's kernel file systems and ESP under its root, then holds the namespaces.
# Usage: host-init.sh <root> <hostname> [<ESP device>]
set -eu
root=$1
hostname "$2"
esp=${3-}

mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs "$root/sys"
# The machine's devtmpfs: the host's loop partitions appear in it as the kernel adds them.
mount -t devtmpfs -o nosuid devtmpfs "$root/dev"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,nosuid,noexec devpts "$root/dev/pts"
mount --bind "$root/dev/pts/ptmx" "$root/dev/ptmx"
[ ! -d "$root/dev/shm" ] || mount -t tmpfs -o nosuid,nodev tmpfs "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$root/run"
mkdir -m 0755 "$root/run/sshd" "$root/run/lock"
if [ -n "$esp" ]; then
  fusefat -o "rw+,fsname=$esp,subtype=vfat" "$esp" "$root/boot/efi" >&2
fi

echo ready
exec sleep infinity >/dev/null
