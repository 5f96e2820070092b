#!/usr/bin/env bash
# Merges the partitions' reports into one (`gameday report merge`), adds
# the Markdown summary to the job summary, and exits with the merged
# verdict (0 passed, 1 an objective missed or a regression, 2 the
# partitions do not make one run, 3 infrastructure).
#
# Args: the partitions' report folders. Env: OUT (default gameday-report),
# GAMEDAY (default target/release/gameday), GITHUB_STEP_SUMMARY (set by
# GitHub Actions; the summary is appended to it when set), EXTRA_ARGS.
set -uo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: ci-merge.sh REPORT_DIR..." >&2
  exit 2
fi
OUT="${OUT:-gameday-report}"
GAMEDAY="${GAMEDAY:-target/release/gameday}"

# shellcheck disable=SC2086 # EXTRA_ARGS is a list of flags.
"$GAMEDAY" report merge "$@" --out "$OUT" \
  --format json,junit,md,html,openmetrics --junit-per-phase ${EXTRA_ARGS:-}
code=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$OUT/summary.md" ]; then
  cat "$OUT/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
exit "$code"
