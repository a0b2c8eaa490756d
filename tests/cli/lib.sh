# SPDX-License-Identifier: MIT
# Shared by CLI tests that count their checks (sourced; not a test itself: ctest runs only
# tests/cli/test_*.sh). Gives $T, a temporary directory removed on exit, and:
#   ok / bad MESSAGE                   count a passed / failed check (bad prints MESSAGE)
#   expect CODE PATTERN -- command...  the command exits CODE, and its stderr or stdout
#                                      matches PATTERN (grep -Ei; empty: anything); both
#                                      are left in $T/err and $T/out
#   expect_stderr CODE PATTERN -- ...  the same, but only stderr may match (error messages)
#   finish                             prints the counts; its status is 0 when none failed
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# _expect "STREAMS" CODE PATTERN -- command...: STREAMS, of err and out, are where PATTERN may be.
_expect() {
    local streams=$1 code=$2 pat=$3 files=() s
    for s in $streams; do files+=("$T/$s"); done
    shift 4
    "$@" > "$T/out" 2> "$T/err"; local rc=$?
    [ "$rc" = "$code" ] || { bad "$* -> exit $rc, expected $code: $(cat "$T/err")"; return; }
    [ -z "$pat" ] || grep -Eqi -- "$pat" "${files[@]}" || { bad "$* -> no /$pat/ in $streams: $(cat "$T/err")"; return; }
    ok
}
expect() { _expect "err out" "$@"; }
expect_stderr() { _expect err "$@"; }
finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" = 0 ]
}
