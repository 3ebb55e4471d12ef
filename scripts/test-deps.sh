#!/usr/bin/env bash
# What the tests need besides Rust, installed once into this checkout or the machine:
# rustfmt and clippy (the lint step), a git identity (the tests make real commits),
# bubblewrap (tests/sandbox.rs and tests/hostile.rs confine real tools with it), Aider in
# .venv/ (tests/engine_aider.rs drives the real one) and pinned ruff and bandit in .venv/
# (tests/scan_analyzers.rs runs the real ones). `make test` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== toolchain: $(cargo --version)"
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

# dayshift commits as the person configured in git, and so do the tests' homes
if ! git config --global user.email >/dev/null 2>&1; then
  echo "git has no identity: setting user.name/user.email globally to \"dayshift tests\" (change them with git config --global)"
  git config --global user.name >/dev/null 2>&1 || git config --global user.name "dayshift tests"
  git config --global user.email "tests@dayshift.invalid"
fi

echo "== bubblewrap (confines the coding tool and the target's commands; the sandbox tests need it)"
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq bubblewrap
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap
  else
    echo "bubblewrap is missing: install it with your package manager (e.g. apt-get install bubblewrap)" >&2
    exit 1
  fi
fi
bwrap --version
# Ubuntu 24.04 and later restrict unprivileged user namespaces with AppArmor; bubblewrap
# needs them when CI does not run as root.
if ! bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid --unshare-net true 2>/dev/null; then
  key=/proc/sys/kernel/apparmor_restrict_unprivileged_userns
  if [ -f "$key" ] && [ "$(cat "$key")" = 1 ]; then
    echo "allowing unprivileged user namespaces for bubblewrap (kernel.apparmor_restrict_unprivileged_userns=0)"
    if [ "$(id -u)" = 0 ]; then sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
    else sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0; fi
  fi
  bwrap --ro-bind / / --dev /dev --proc /proc --unshare-pid --unshare-net true \
    || { echo "bubblewrap cannot make its namespaces on this machine; tests/sandbox.rs needs it" >&2; exit 1; }
fi

echo "== Aider (the coder's default engine; its tests drive the real one)"
if [ ! -x .venv/bin/aider ]; then
  echo "installing Aider into .venv/ from PyPI (once; about a minute)…"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check aider-chat
fi
.venv/bin/aider --version


echo "== ruff and bandit (the scanner's analyzers; tests/scan_analyzers.rs runs the real ones)"
RUFF_VERSION=0.17.6
BANDIT_VERSION=1.9.4
if [ ! -x .venv/bin/ruff ] || [ ! -x .venv/bin/bandit ]; then
  echo "installing ruff $RUFF_VERSION and bandit $BANDIT_VERSION into .venv/ from PyPI (once)…"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check \
    "ruff==$RUFF_VERSION" "bandit==$BANDIT_VERSION"
fi
.venv/bin/ruff --version
.venv/bin/bandit --version | head -1
