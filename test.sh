#!/usr/bin/env bash
# The test command: every Rust test, then the Python package built into a virtual
# environment and its pytest suite (the numpy API, optimist.torch against torch, the
# lab from Python, the example notebook).
#
# The environment is target/venv (OPTIMIST_VENV to choose another); maturin, numpy,
# pytest and torch are installed into it when missing (torch from PyPI runs on the
# CPU). In CI (CI=true) a Python test that cannot run fails: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")"

cargo test --workspace --release

venv="${OPTIMIST_VENV:-target/venv}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
venv="$(cd "$venv" && pwd)"
# maturin's build hook runs the `maturin` of the environment, found on PATH.
export PATH="$venv/bin:$PATH"
py="$venv/bin/python"
missing=()
for module in maturin numpy pytest torch; do
    "$py" -c "import $module" 2>/dev/null || missing+=("$module")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing into $venv: ${missing[*]}" >&2
    "$py" -m pip install --quiet "${missing[@]}"
fi

# The package as a user installs it (maturin as the PEP 517 backend, a release build),
# with the environment's maturin instead of a download.
"$py" -m pip install --quiet --no-build-isolation --force-reinstall --no-deps ./crates/optimist-py

status=0
"$py" -m pytest -o cache_dir="$PWD/target/pytest-cache" crates/optimist-py/tests || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
