#!/usr/bin/env bash
# `make install`: puts the gameday binary, its shell completions and its man
# pages under a prefix, where shells and man look for them:
#
#   PREFIX/bin/gameday
#   PREFIX/share/bash-completion/completions/gameday
#   PREFIX/share/zsh/site-functions/_gameday
#   PREFIX/share/fish/vendor_completions.d/gameday.fish
#   PREFIX/share/man/man1/gameday.1, gameday-run.1, …
#
# Usage: install.sh BINARY PREFIX. The completions and pages are generated
# by the installed binary itself (`gameday completions`, `gameday man`).
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: install.sh BINARY PREFIX" >&2
  exit 2
fi
bin_src=$1
prefix=$2
if [ ! -x "$bin_src" ]; then
  echo "install.sh: $bin_src is not an executable; build it first (cargo build --release)" >&2
  exit 2
fi

bin="$prefix/bin/gameday"
share="$prefix/share"
mkdir -p "$prefix/bin" "$share/bash-completion/completions" "$share/zsh/site-functions" \
  "$share/fish/vendor_completions.d" "$share/man/man1"
install -m 755 "$bin_src" "$bin"
"$bin" completions bash >"$share/bash-completion/completions/gameday"
"$bin" completions zsh >"$share/zsh/site-functions/_gameday"
"$bin" completions fish >"$share/fish/vendor_completions.d/gameday.fish"
"$bin" man --out "$share/man/man1" >/dev/null

echo "installed $("$bin" --version) into $prefix"
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "note: $prefix/bin is not on PATH; add it (export PATH=\"$prefix/bin:\$PATH\")" ;;
esac
if [ "$prefix" != /usr/local ] && [ "$prefix" != /usr ]; then
  echo "note: bash-completion reads $share/bash-completion/completions when XDG_DATA_DIRS includes $share (or source the file from ~/.bashrc); man reads $share/man through MANPATH"
fi
