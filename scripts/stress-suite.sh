#!/usr/bin/env bash
# Runs the test suite N times in a row while `stress --cpu 2` keeps two cores
# busy, to find tests that pass or fail by timing. Prints each run's pass/fail
# counts, then every test that failed in some runs and passed in others
# (flaky) and every test that failed in all of them.
#
#   scripts/stress-suite.sh N [vitest arguments, e.g. test files]
#
# Without vitest arguments the whole suite runs (README's `npm test`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs="${1:-}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: the number of runs must be a whole number >= 1, got \"$runs\"" >&2
  echo "  what to do: scripts/stress-suite.sh 5 [test files...]" >&2
  exit 2
fi
shift
if ! command -v stress >/dev/null; then
  echo "error: stress is not installed" >&2
  echo "  what to do: apt-get install stress (Debian), then run again" >&2
  exit 2
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/syrf-stress-XXXXXX")"
# In its own process group, so the trap ends stress and the workers it forks, and nothing else.
setsid stress --cpu 2 >/dev/null 2>&1 &
stress_pid=$!
trap 'kill -- "-$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT

for ((i = 1; i <= runs; i++)); do
  set +e
  npx vitest run "$@" --reporter=dot --reporter=json --outputFile.json="$out/run-$i.json" >"$out/run-$i.log" 2>&1
  status=$?
  set -e
  if [ ! -s "$out/run-$i.json" ]; then
    echo "run $i: vitest wrote no report (exit $status); see $out/run-$i.log"
    continue
  fi
  # shellcheck disable=SC2016 # JavaScript, not shell, expands these.
  node -e '
    const r = require(process.argv[1]);
    console.log(`run ${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped (exit ${process.argv[3]})`);
  ' "$out/run-$i.json" "$i" "$status"
done

set +e
# shellcheck disable=SC2016 # JavaScript, not shell, expands these.
node -e '
  const fs = require("node:fs");
  const [dir, runs] = [process.argv[1], Number(process.argv[2])];
  const outcomes = new Map();
  let reports = 0;
  for (let i = 1; i <= runs; i++) {
    const file = `${dir}/run-${i}.json`;
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) continue;
    reports++;
    for (const suite of JSON.parse(fs.readFileSync(file, "utf8")).testResults) {
      for (const test of suite.assertionResults) {
        const name = `${suite.name.replace(process.cwd() + "/", "")} > ${test.fullName}`;
        const seen = outcomes.get(name) ?? { passed: 0, failed: 0 };
        if (test.status === "passed") seen.passed++;
        else if (test.status === "failed") seen.failed++;
        outcomes.set(name, seen);
      }
    }
  }
  const flaky = [...outcomes].filter(([, o]) => o.failed > 0 && o.passed > 0);
  const broken = [...outcomes].filter(([, o]) => o.failed > 0 && o.passed === 0);
  console.log(`${reports} of ${runs} run(s) reported; flaky tests: ${flaky.length}; failing in every run: ${broken.length}`);
  for (const [name, o] of flaky) console.log(`  flaky (${o.failed} of ${o.failed + o.passed} runs failed): ${name}`);
  for (const [name] of broken) console.log(`  always failed: ${name}`);
  process.exitCode = flaky.length + broken.length > 0 || reports < runs ? 1 : 0;
' "$out" "$runs"
status=$?
echo "reports and logs: $out"
exit $status
