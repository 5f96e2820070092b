#!/usr/bin/env bash
# The shell steps of the composite action .github/actions/gameday/:
#
#   action.sh install  build gameday from this checkout into GAMEDAY_ROOT
#                      (default ~/.gameday) unless the binary there was built
#                      from the same sources (a stamp of their SHA-256), and
#                      put GAMEDAY_ROOT/bin on GITHUB_PATH
#   action.sh tools    `make tools` (helm, sops into .tools/bin/, cached in
#                      ~/.cache/gameday), .tools/bin on GITHUB_PATH
#   action.sh doctor   `gameday doctor` for the scenarios (a missing tool is a
#                      warning annotation here; the run step fails on it)
#   action.sh run      `gameday run` with the INPUT_* variables; appends the
#                      Markdown summary to GITHUB_STEP_SUMMARY, writes the
#                      outputs exit-code and report-dir to GITHUB_OUTPUT and
#                      exits with gameday's code
#
# Inputs (env): INPUT_SCENARIOS (space-separated, default scenarios),
# INPUT_PROVIDER, INPUT_PARTITION, INPUT_FORMAT (default json,junit,md,html;
# md is always added: the job summary is made from it), INPUT_BASELINE,
# INPUT_TOLERANCE (default 20%), INPUT_OUT (default gameday-report),
# INPUT_ARGS (more `run` flags, space-separated). GAMEDAY: the binary to use
# (default: gameday on PATH, after `install`). CARGO: default cargo.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GAMEDAY="${GAMEDAY:-gameday}"

# append FILE LINE: appends to a GitHub file command when it is set.
append() {
  if [ -n "${1:-}" ]; then
    printf '%s\n' "$2" >>"$1"
  fi
}

# The SHA-256 of what the binary is built from.
source_stamp() {
  (cd "$repo" && find harness/src harness/build.rs harness/Cargo.toml harness/assets Cargo.toml Cargo.lock \
    -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

install_gameday() {
  local root="${GAMEDAY_ROOT:-$HOME/.gameday}"
  local stamp
  stamp=$(source_stamp)
  if [ -x "$root/bin/gameday" ] && [ "$(cat "$root/.source-sha256" 2>/dev/null)" = "$stamp" ]; then
    echo "gameday: cached build of these sources in $root ($("$root/bin/gameday" --version))"
  else
    echo "gameday: building from $repo into $root"
    "${CARGO:-cargo}" install --locked --force --path "$repo/harness" --root "$root" || return 3
    printf '%s\n' "$stamp" >"$root/.source-sha256"
  fi
  append "${GITHUB_PATH:-}" "$root/bin"
}

install_tools() {
  bash "$repo/harness/scripts/tools.sh" || return 3
  append "${GITHUB_PATH:-}" "$repo/.tools/bin"
}

read -ra scenarios <<<"${INPUT_SCENARIOS:-scenarios}"

doctor() {
  local args=(doctor "${scenarios[@]}")
  if [ -n "${INPUT_PROVIDER:-}" ]; then
    args+=(--provider "$INPUT_PROVIDER")
  fi
  "$GAMEDAY" "${args[@]}"
  local code=$?
  case "$code" in
  0) ;;
  1) echo "::warning title=gameday doctor::a tool the drills need is missing; see the table above" ;;
  *) return "$code" ;;
  esac
}

run_drills() {
  local out="${INPUT_OUT:-gameday-report}"
  local format="${INPUT_FORMAT:-json,junit,md,html}"
  case ",$format," in
  *,md,*) ;;
  *) format="$format,md" ;;
  esac
  local args=(run "${scenarios[@]}" --out "$out" --format "$format")
  if [ -n "${INPUT_PROVIDER:-}" ]; then
    args+=(--provider "$INPUT_PROVIDER")
  fi
  if [ -n "${INPUT_PARTITION:-}" ]; then
    args+=(--partition "$INPUT_PARTITION")
  fi
  if [ -n "${INPUT_BASELINE:-}" ]; then
    args+=(--baseline "$INPUT_BASELINE" --tolerance "${INPUT_TOLERANCE:-20%}")
  fi
  local extra=()
  read -ra extra <<<"${INPUT_ARGS:-}"
  args+=("${extra[@]}")
  echo "gameday ${args[*]}"
  "$GAMEDAY" "${args[@]}"
  local code=$?
  if [ -f "$out/summary.md" ]; then
    append "${GITHUB_STEP_SUMMARY:-}" "$(cat "$out/summary.md")"
  fi
  append "${GITHUB_OUTPUT:-}" "exit-code=$code"
  if [ -d "$out" ]; then
    append "${GITHUB_OUTPUT:-}" "report-dir=$out"
  fi
  echo "gameday run exited $code"
  return "$code"
}

case "${1:-}" in
install) install_gameday ;;
tools) install_tools ;;
doctor) doctor ;;
run) run_drills ;;
*)
  echo "usage: action.sh install|tools|doctor|run" >&2
  exit 2
  ;;
esac
