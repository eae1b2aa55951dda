#!/usr/bin/env bash
# Writes what `pgwarden version` prints about the build (VersionCommand): the version and
# the commit of the source tree, with whether it had uncommitted changes. Run by Maven in
# the kernel's generate-resources phase: `build-info.sh VERSION OUTPUT_FILE`.
# Asks git about this folder's own checkout, so a git worktree reports its own commit (a
# plugin that resolved the repository itself reported the main checkout's). A source tree
# without git builds too, and reports the commit as unknown.
set -euo pipefail
version="${1:?usage: build-info.sh VERSION OUTPUT_FILE}"
out="${2:?}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
commit="$(git -C "$here" rev-parse HEAD 2>/dev/null || true)"
dirty=false
if [ -n "$commit" ] && [ -n "$(git -C "$here/.." status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  dirty=true
fi
mkdir -p "$(dirname "$out")"
printf 'version=%s\ncommit=%s\ndirty=%s\n' "$version" "$commit" "$dirty" >"$out.tmp"
# Unchanged content keeps the file's time, so the jar is not rebuilt for nothing.
if cmp -s "$out.tmp" "$out"; then rm "$out.tmp"; else mv "$out.tmp" "$out"; fi
