#!/usr/bin/env bash
# Makes PostgreSQL's parser library (libpg_query, PostgreSQL 15 grammar) available to the
# build when the machine does not have it installed (DESIGN §3). Run by Maven in the
# kernel's initialize phase: `fetch-libpg-query.sh <kernel target dir>`.
#
# - Installed system library (Debian package libpg-query1504.0): nothing to do; the loader
#   (io.pgwarden.analysis.PgQueryLibrary) finds it in the same folders checked here.
# - Otherwise: `apt-get download` the package (no root needed) and `dpkg-deb -x` it, then
#   place the .so in <target>/native/ (tests, ./pgwarden) and <target>/dist/native/ (dist).
#
# PGWARDEN_LIBPGQUERY_SYSTEM_DIRS (colon-separated) replaces the system folders checked, so
# the fetch path can be tested on a machine that has the package installed.
set -euo pipefail

package=libpg-query1504.0
library=libpg_query.so.1504.0
target="${1:?usage: fetch-libpg-query.sh <kernel target dir>}"
system_dirs="${PGWARDEN_LIBPGQUERY_SYSTEM_DIRS:-/usr/lib/x86_64-linux-gnu:/usr/lib/aarch64-linux-gnu:/usr/lib64:/usr/lib:/usr/local/lib}"

IFS=: read -r -a dirs <<<"$system_dirs"
for dir in "${dirs[@]}"; do
  if [ -f "$dir/$library" ]; then
    exit 0
  fi
done

native="$target/native"
if [ ! -f "$native/$library" ]; then
  fail() {
    echo "pgwarden build: $library is not installed and could not be fetched: $*" >&2
    echo "pgwarden build: install the Debian package $package (apt-get install $package)" >&2
    exit 1
  }
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || fail "apt-get and dpkg-deb are needed"
  work="$native/deb"
  rm -rf "$work" && mkdir -p "$work"
  echo "pgwarden build: $library not installed; fetching the Debian package $package into $native" >&2
  # apt-get download writes into the current folder; as root it warns that the _apt user
  # cannot write there, which is harmless.
  (cd "$work" && apt-get download -q "$package" 2>&1 | { grep -v '^W: Download is performed unsandboxed' >&2 || true; }) \
    || fail "apt-get download $package failed (no package lists? run apt-get update)"
  deb="$(ls "$work"/*.deb 2>/dev/null | head -1)"
  [ -n "$deb" ] || fail "apt-get download produced no .deb"
  dpkg-deb -x "$deb" "$work/root"
  found="$(find "$work/root" -name "$library" -print -quit)"
  [ -n "$found" ] || fail "$deb does not contain $library"
  cp -L "$found" "$native/$library.tmp" && mv "$native/$library.tmp" "$native/$library"
  rm -rf "$work"
fi

# The distribution carries the fetched library so that ./pgwarden runs on this machine.
mkdir -p "$target/dist/native"
cp -p "$native/$library" "$target/dist/native/$library"
