#!/usr/bin/env bash
# Runs every fuzz target of every package for FUZZTIME each (make fuzz).
# New inputs go to $(go env GOCACHE)/fuzz; a crasher is written to the
# package's testdata/fuzz/<Target>, and fails the run.
#
# Go 1.26's fuzz coordinator can end a duration-bounded run with a bare
# "context deadline exceeded" and no crasher (golang/go#75804, fixed in Go
# 1.27): such a run is reported as that flake, not as a failure. Anything
# else that fails, or any new file under testdata/fuzz, fails the run.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
FUZZMINIMIZE=${FUZZMINIMIZE:-10s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0 flaked=0 ran=0
for pkg in $($GO list ./...); do
  dir=$($GO list -f '{{.Dir}}' "$pkg")
  for t in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    ran=$((ran + 1))
    echo "== $pkg $t"
    before=$({ find "$dir/testdata/fuzz/$t" -type f 2>/dev/null || true; } | wc -l)
    if $GO test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" "$pkg" >"$out" 2>&1; then
      tail -n 3 "$out"
      continue
    fi
    cat "$out"
    after=$({ find "$dir/testdata/fuzz/$t" -type f 2>/dev/null || true; } | wc -l)
    if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$out" &&
      [ "$(grep -c -- '--- FAIL' "$out")" -eq 1 ]; then
      echo "== $t: stopped by Go's fuzz-coordinator race at the fuzztime boundary (golang/go#75804), no crasher written: not a failure"
      flaked=$((flaked + 1))
    else
      echo "== $t: FAILED (see testdata/fuzz/$t for the input)"
      failed=$((failed + 1))
    fi
  done
done
echo "== fuzz: $ran targets, $failed failed, $flaked stopped by golang/go#75804"
[ "$failed" -eq 0 ]
