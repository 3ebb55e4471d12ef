# dayshift — common commands. `make demo` and `make test` are all a newcomer needs.
#
# The other targets act on a dayshift home: HOME_DIR=<dir> if given, else $DAYSHIFT_HOME,
# else this checkout (whose config/ and VISION.md are examples). Each says which home it acts
# on; `start` and `day` refuse to run on this checkout unless ALLOW_CHECKOUT_HOME=1.
#   make status HOME_DIR=~/acme-agents
#   DAYSHIFT_HOME=~/acme-agents make budget

HOME_DIR ?= $(or $(DAYSHIFT_HOME),.)
CARGO ?= cargo
BIN = target/release/dayshift
# build (cargo's progress shows), then run on the home, saying which
DAYSHIFT = @$(MAKE) --no-print-directory build-quietly && \
	echo "dayshift home: $(abspath $(HOME_DIR))" >&2 && $(BIN) --home $(HOME_DIR)
# `start` and `day` write tasks, plans and reports into the home: never into the checkout by accident
REFUSE_CHECKOUT = @if [ "$(abspath $(HOME_DIR))" = "$(CURDIR)" ] && [ -z "$(ALLOW_CHECKOUT_HOME)" ]; then \
	echo "refusing to $@ on the source checkout ($(CURDIR)): set DAYSHIFT_HOME or HOME_DIR=<your home> (make one with \`$(BIN) init <dir>\`), or ALLOW_CHECKOUT_HOME=1 to use the example files here" >&2; exit 2; fi

.PHONY: demo demo-cassette test test-deps lint bench setup doctor start stop status logs budget day build build-quietly

demo: build-quietly  ## the whole day, offline, on a bundled example home
	@$(BIN) demo

demo-cassette:   ## record examples/demo/cassette.jsonl again (after a prompt changes)
	$(CARGO) test --test demo -- --ignored --exact record_the_demo_cassette --nocapture

test: test-deps lint  ## formatting, lints and every test (installs bubblewrap and Aider once if missing)
	$(CARGO) test

test-deps:       ## what the tests need besides Rust: bubblewrap, and Aider, ruff and bandit in .venv/
	@bash scripts/test-deps.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

bench:           ## print the performance figures (tasks list, run plan, daemon memory, work loop, review, GitHub calls per task, the scanner)
	$(CARGO) bench --bench spine
	$(CARGO) bench --bench work
	$(CARGO) bench --bench review
	$(CARGO) bench --bench github
	$(CARGO) bench --bench scan

build:
	$(CARGO) build --release

build-quietly:   # cargo's own progress shows; a first build says it takes a while
	@test -x $(BIN) || echo "building dayshift (release; the first build takes several minutes)…" >&2
	@$(CARGO) build --release

setup: build     ## build dayshift, install Aider (the default coding engine) into .venv/ and bubblewrap (the sandbox) when missing
	@test -x .venv/bin/aider || (python3 -m venv .venv && .venv/bin/pip install --quiet aider-chat)
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq bubblewrap; \
	  else \
	    echo "bubblewrap is missing, so agents would run unconfined: run \`sudo apt-get install bubblewrap\` (or your distribution's package)"; \
	  fi; }
	@echo "dayshift is built: target/release/dayshift; Aider: .venv/bin/aider"

doctor:
	$(DAYSHIFT) doctor

start:
	$(REFUSE_CHECKOUT)
	$(DAYSHIFT) start

stop:
	$(DAYSHIFT) stop

status:
	$(DAYSHIFT) status

logs:
	$(DAYSHIFT) logs

budget:
	$(DAYSHIFT) budget

day:
	$(REFUSE_CHECKOUT)
	$(DAYSHIFT) day
