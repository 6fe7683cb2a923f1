#!/usr/bin/env bash
# Installs the Debian packages the tests need when their commands are
# missing: `apt-get update` once, then one install. Nothing is done when
# every command is there.
set -euo pipefail

# command -> Debian package
declare -A needed=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [chromium]=chromium
  [promtool]=prometheus
)
missing=()
for command in "${!needed[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${needed[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]}; run as root, or install them: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# The package's own service is not wanted: tests start redis-server on a
# free loopback port themselves. policy-rc.d keeps it from starting.
# (chromium is the headless browser of the live page's test; prometheus
# brings promtool, for the alert rules' tests.)
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.friendgate
chmod +x /usr/sbin/policy-rc.d.friendgate
restore=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  cp /usr/sbin/policy-rc.d.friendgate /usr/sbin/policy-rc.d
  restore=yes
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
if [ -n "$restore" ]; then rm -f /usr/sbin/policy-rc.d; fi
rm -f /usr/sbin/policy-rc.d.friendgate
