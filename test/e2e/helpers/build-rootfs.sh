#!/bin/sh
# Builds the cached root file system tarball of the e2e test hosts; run under flock by test-hosts.ts.
# Usage: build-rootfs.sh <tarball> <suite> <mirror> <comma-separated packages>
set -eu
out=$1
suite=$2
mirror=$3
include=$4

[ -s "$out" ] && exit 0
# What a builder killed before its trap could run left behind; the lock keeps out the others.
rm -rf "$out".build.*

work=$(mktemp -d "$out.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private mount namespace: whatever debootstrap mounts in the target goes away with it, even when it fails.
unshare --mount --propagation private -- \
  debootstrap --variant=minbase --include="$include" "$suite" "$work/root" "$mirror" >"$work/log" 2>&1 || {
  tail -n 40 "$work/log" >&2
  exit 1
}

# Each host makes its own ssh host keys; apt's downloads and lists are not needed.
rm -f "$work/root"/etc/ssh/ssh_host_*
rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/*

tar --numeric-owner --xattrs --xattrs-include='*' --acls -C "$work/root" -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$out"
