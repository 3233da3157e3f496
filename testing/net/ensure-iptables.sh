#!/usr/bin/env bash
# Installs Debian's iptables if it is missing (the disaster-recovery partition test cuts loopback traffic
# with it), and removes PETREL-TEST-* chains a killed test left behind. Needs root.
set -euo pipefail
if ! command -v iptables >/dev/null 2>&1; then
  echo "ensure-iptables: installing iptables (Debian package)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >&2
fi
for chain in $(iptables -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^PETREL-TEST-/ {print $2}'); do
  iptables -D OUTPUT -j "$chain" 2>/dev/null || true
  iptables -F "$chain"
  iptables -X "$chain"
  echo "ensure-iptables: removed leftover chain $chain" >&2
done
iptables --version
