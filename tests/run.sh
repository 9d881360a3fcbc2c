#!/usr/bin/env bash
# Runs every suite against one build directory and prints the total as the
# last line: "N passed, N failed".
#   unit:        build/tests/test_* (cmocka, TAP output)
#   integration: tests/integration/*.test.mjs (node:test, the real binary)
#   interop:     tests/interop/*.test.mjs (DuckDB reads what we write)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
export SLUICE_BIN=$PWD/$build/sluice
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=TAP
export SL_UNIT_DIR=$PWD/$build/tests
# The live S3 unit suite runs from tests/integration/s3_store.test.mjs, which
# starts an S3-compatible server; as a plain unit test it is skipped.
export SL_TEST_S3_ENDPOINT=${SL_TEST_S3_ENDPOINT:-skip}
pass=0
fail=0
log=$(mktemp -d)

# Unit tests of the PostgreSQL adapters and sources talk to a real server.
source tests/lib/pg.sh
pg_start || { echo "FAIL cannot start PostgreSQL"; exit 1; }
trap 'pg_stop; rm -rf "$log"' EXIT

for t in "$build"/tests/test_*; do
	[[ -x $t ]] || continue
	name=$(basename "$t")
	out="$log/$name.out"
	"$t" >"$out" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$out")
	f=$(grep -cE '^not ok ' "$out")
	if ((rc != 0 && f == 0)); then f=1; fi
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$out"; then
		f=$((f + 1))
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if ((f)); then
		echo "FAIL unit $name ($p passed, $f failed)"
		grep -vE '^ok ' "$out" | tail -40
	else
		echo "ok   unit $name ($p)"
	fi
done

suites=()
for d in tests/integration tests/interop; do
	for f in "$d"/*.test.mjs; do
		[[ -e $f ]] && suites+=("$f")
	done
done
for f in "${suites[@]}"; do
	out="$log/$(basename "$f").tap"
	node --test --test-reporter=tap "$f" >"$out" 2>&1
	p=$(grep -E '^# pass ' "$out" | awk '{print $3}' | tail -1)
	n=$(grep -E '^# fail ' "$out" | awk '{print $3}' | tail -1)
	p=${p:-0}
	n=${n:-1}
	pass=$((pass + p))
	fail=$((fail + n))
	if ((n)); then
		echo "FAIL $f ($p passed, $n failed)"
		# each failing subtest's whole report: its error with the command's
		# stdout and stderr, which the harness puts in the message
		awk '/^ *not ok/ {p = 1} p {print} /^ *\.\.\.$/ {p = 0}' "$out" | head -200
	else
		echo "ok   $f ($p)"
	fi
done
echo "$pass passed, $fail failed"
((fail == 0))
