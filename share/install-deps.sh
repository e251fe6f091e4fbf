#!/bin/sh
# Install the Debian 12 packages that kpipe's build, tests and benchmarks
# need, plus Node.js (Debian's nodejs and npm, only when no node is on PATH)
# and the KafkaJS test dependency in tests/js (npm ci, only when
# tests/js/node_modules is missing). Java and Maven serve the Apache Kafka
# test peer (tests/peers), which the tests fetch from Maven Central into a
# cache outside the repository; kpipe itself needs none of them. Safe to run any number of times, from
# any directory. Needs root (or sudo) when something must be installed.
set -e
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
js="$here/../tests/js"
PKGS="build-essential clang libclang-rt-dev pkg-config python3 ca-certificates
libevent-dev libssl-dev libsasl2-dev libjansson-dev libisal-dev libxxhash-dev
zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libcmocka-dev uthash-dev
kcat python3-pytest python3-pytest-xdist python3-confluent-kafka python3-kafka man-db
openjdk-17-jdk-headless maven python3-venv iproute2 zsh fish"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
command -v go >/dev/null 2>&1 || PKGS="$PKGS golang-go"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi
if [ ! -d "$js/node_modules" ]; then
	(cd "$js" && npm ci --no-audit --no-fund)
fi
