# dayshift — common commands. `make demo` and `make test` are all a newcomer needs.
# Other targets act on the home in $(HOME_DIR) (default: this directory, itself a home).

HOME_DIR ?= .
CARGO ?= cargo
DAYSHIFT = $(CARGO) run --release --quiet -- --home $(HOME_DIR)

.PHONY: demo demo-cassette test test-deps lint bench setup doctor start stop status logs budget day build

demo:            ## the whole day, offline, on a bundled example home
	$(CARGO) run --release --quiet -- demo

demo-cassette:   ## record examples/demo/cassette.jsonl again (after a prompt changes)
	$(CARGO) test --test demo -- --ignored --exact record_the_demo_cassette --nocapture

test: test-deps lint  ## formatting, lints and every test (installs bubblewrap and Aider once if missing)
	$(CARGO) test

test-deps:       ## what the tests need besides Rust: bubblewrap, and Aider in .venv/
	@bash scripts/test-deps.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

bench:           ## print the performance figures (tasks list, run plan, daemon memory, work loop)
	$(CARGO) bench --bench spine
	$(CARGO) bench --bench work

build:
	$(CARGO) build --release

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
	$(DAYSHIFT) day
