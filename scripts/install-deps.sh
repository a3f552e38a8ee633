#!/usr/bin/env bash
# Installs what building and testing fusekit needs on Debian 12, when missing.
set -euo pipefail
packages=(cmake g++ clang libclang-rt-14-dev make pkg-config libgtest-dev libgmock-dev
          libbenchmark-dev libspdlog-dev libfmt-dev libcli11-dev liburing-dev libabsl-dev fuse3 fio
          gnuplot-nox attr acl bc git e2fsprogs strace debhelper lintian
          nlohmann-json3-dev bindfs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]}" >&2
  echo "run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
