#!/usr/bin/env bash
# Installs every Debian 12 package ringmail needs to build, test, fuzz and benchmark.
# Idempotent: when everything is already installed it does nothing and touches no network.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  g++ clang clang-14 libclang-rt-14-dev llvm-14
  liburing-dev libwolfssl-dev libmimalloc-dev libsimdjson-dev librocksdb-dev libc-ares-dev
  libargon2-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-yaml procps swaks openssl libssl-dev dnsmasq-base postfix
  python3-dnslib python3-spf python3-dkim publicsuffix isync fetchmail
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix is here for its smtp-sink and smtp-source (tests, benchmarks): install it without
# configuring or starting a system mail server.
echo "postfix postfix/main_mailer_type select No configuration" | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
