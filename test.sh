#!/usr/bin/env bash
# Runs every Corral test: the .NET unit and functional tests, then the end-to-end tests with real
# third-party clients (tests/e2e, node) when node is installed.
# The last line printed is always "N passed, N failed" (both runners summed); the summary lines
# above it also say how many tests each runner skipped (a test whose tool is missing, e.g.
# promtool). The exit code is non-zero if a test failed, the build failed or a test runner crashed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"
export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

passed=0
failed=0
skipped=0
problems=()

# Colour codes and carriage returns removed, so the summary lines parse the same on a terminal.
plain() {
  sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[=>]//g' -e 's/\r$//' "$1"
}

finish() {
  local problem
  for problem in "${problems[@]}"; do
    echo "$problem"
  done
  echo "${passed} passed, ${failed} failed"
  if ((failed > 0 || ${#problems[@]} > 0)); then
    exit 1
  fi
  exit 0
}

# --- build once -------------------------------------------------------------------------------
if ! dotnet build Corral.slnx -c Release; then
  echo
  problems+=("dotnet build failed: no test ran.")
  finish
fi

# --- .NET tests -------------------------------------------------------------------------------
# VSTest prints one line per test assembly (verified with SDK 10.0.401, Microsoft.NET.Test.Sdk 18,
# xunit.runner.visualstudio 3):
#   Passed!  - Failed:     0, Passed:   204, Skipped:     0, Total:   204, Duration: 332 ms - Corral.Tests.dll (net10.0)
#   Failed!  - Failed:     1, Passed:     2, Skipped:     1, Total:     4, Duration: 24 ms - X.dll (net10.0)
# A test host that crashes prints "Test Run Aborted." and no such line for its assembly.
dotnet_rc=0
dotnet test Corral.slnx -c Release --no-build 2>&1 | tee "$logs/dotnet.txt" || dotnet_rc=$?

dotnet_passed=0
dotnet_failed=0
dotnet_skipped=0
dotnet_assemblies=0
while read -r assembly_failed assembly_passed assembly_skipped; do
  dotnet_failed=$((dotnet_failed + assembly_failed))
  dotnet_passed=$((dotnet_passed + assembly_passed))
  dotnet_skipped=$((dotnet_skipped + assembly_skipped))
  dotnet_assemblies=$((dotnet_assemblies + 1))
done < <(plain "$logs/dotnet.txt" |
  sed -nE 's/^[[:space:]]*(Passed|Failed)![[:space:]]+-[[:space:]]+Failed:[[:space:]]*([0-9]+),[[:space:]]*Passed:[[:space:]]*([0-9]+),[[:space:]]*Skipped:[[:space:]]*([0-9]+),.*/\2 \3 \4/p')
passed=$((passed + dotnet_passed))
failed=$((failed + dotnet_failed))
skipped=$((skipped + dotnet_skipped))
summary_dotnet="dotnet test: ${dotnet_passed} passed, ${dotnet_failed} failed, ${dotnet_skipped} skipped in ${dotnet_assemblies} test assemblies"

if plain "$logs/dotnet.txt" | grep -E 'Test Run Aborted|Test host process crashed' >/dev/null; then
  problems+=("dotnet test: a test host crashed (see 'Test Run Aborted' above); the tests it had not run yet are not counted.")
elif ((dotnet_rc != 0 && dotnet_failed == 0)); then
  problems+=("dotnet test exited with code ${dotnet_rc} without reporting a failed test: it crashed or could not run.")
elif ((dotnet_assemblies == 0)); then
  problems+=("dotnet test reported no test assembly results.")
fi

# --- end-to-end tests (node) ----------------------------------------------------------------
# node's spec reporter ends with "ℹ tests N", "ℹ pass N", "ℹ fail N", "ℹ cancelled N", "ℹ skipped N", ...
# A test cancelled (its before() hook failed, or a timeout) is counted as failed.
summary_e2e=""
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  e2e_rc=0
  # npm ci when node_modules is missing or older than package-lock.json (a dependency was added or
  # changed since the last install); npm writes node_modules/.package-lock.json at every install.
  (cd tests/e2e && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm test) 2>&1 |
    tee "$logs/e2e.txt" || e2e_rc=$?

  count() {
    plain "$logs/e2e.txt" | sed -nE "s/^ℹ $1 ([0-9]+)[[:space:]]*\$/\\1/p" | tail -n 1
  }
  e2e_passed="$(count pass)"
  e2e_failed="$(count fail)"
  e2e_cancelled="$(count cancelled)"
  e2e_skipped="$(count skipped)"
  if [[ -z "$e2e_passed" || -z "$e2e_failed" ]]; then
    problems+=("e2e tests (tests/e2e) exited with code ${e2e_rc} without a test summary: npm ci or node crashed.")
  else
    e2e_failed=$((e2e_failed + ${e2e_cancelled:-0}))
    passed=$((passed + e2e_passed))
    failed=$((failed + e2e_failed))
    skipped=$((skipped + ${e2e_skipped:-0}))
    summary_e2e="e2e (node): ${e2e_passed} passed, ${e2e_failed} failed, ${e2e_skipped:-0} skipped"
    if ((e2e_rc != 0 && e2e_failed == 0)); then
      problems+=("e2e tests exited with code ${e2e_rc} without reporting a failed test: the runner crashed.")
    fi
  fi
else
  summary_e2e="e2e (node): SKIPPED - node/npm not found. Install Node.js 20+ with npm, then run ./test.sh again (or: cd tests/e2e && npm ci && npm test)."
fi

echo
echo "$summary_dotnet"
if [[ -n "$summary_e2e" ]]; then
  echo "$summary_e2e"
fi
echo "skipped in all: ${skipped} (a skipped test neither passed nor failed; its reason is in the runner's output above)"
finish
