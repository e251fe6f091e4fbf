#!/bin/sh
# Install the Debian 12 packages that kpipe's build, tests and benchmarks
# need. Safe to run any number of times. Needs root (or sudo).
set -e
PKGS="build-essential clang pkg-config python3 ca-certificates
libevent-dev libssl-dev libsasl2-dev libjansson-dev libisal-dev
zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libcmocka-dev
kcat python3-pytest python3-confluent-kafka python3-kafka"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
