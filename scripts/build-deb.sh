#!/usr/bin/env bash
# make deb: the Debian packages (passthroughfs, libfusekit0, libfusekit-dev)
# from a clean copy of the tree, into build/deb, then lintian on them.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || { echo "deb: $tool missing (make deps)"; exit 1; }
done
out=build/deb
rm -rf "$out"; mkdir -p "$out/src"
# The tree as git sees it (tracked and new files, no build directories).
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C "$out/src" -xf -
(cd "$out/src" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >../build.log 2>&1) ||
  { tail -30 "$out/build.log"; echo "deb: dpkg-buildpackage failed (log: $out/build.log)"; exit 1; }
rm -rf "$out/src"
ls "$out"/*.deb
lintian --fail-on error,warning "$out"/*.changes
tests/install/deb_test.sh "$out"
