#!/usr/bin/env bash
# One CI runner's share of the catalogue: `gameday run --partition K/N`.
#
# Env: PARTITION (K/N, required), OUT (report folder, default
# gameday-report), SCENARIOS (default scenarios), GAMEDAY (the binary,
# default target/release/gameday), EXTRA_ARGS (more `run` flags).
#
# A drill that misses its objective (exit 1) does not fail this step: the
# verdict is the merged report's (ci-merge.sh). Invalid input (2),
# infrastructure errors (3) and interruptions (130) do.
set -uo pipefail

: "${PARTITION:?set PARTITION to K/N}"
OUT="${OUT:-gameday-report}"
SCENARIOS="${SCENARIOS:-scenarios}"
GAMEDAY="${GAMEDAY:-target/release/gameday}"

# Annotations (::error) come once, from the merged report (ci-merge.sh).
# shellcheck disable=SC2086 # EXTRA_ARGS is a list of flags.
GITHUB_ACTIONS=false "$GAMEDAY" run "$SCENARIOS" --partition "$PARTITION" --out "$OUT" \
  --format json,junit,md,html,openmetrics --junit-per-phase ${EXTRA_ARGS:-}
code=$?
echo "gameday run --partition $PARTITION exited $code"
if [ "$code" -eq 0 ] || [ "$code" -eq 1 ]; then
  exit 0
fi
exit "$code"
