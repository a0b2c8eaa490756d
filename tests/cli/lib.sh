# SPDX-License-Identifier: MIT
# Shared by CLI tests that count their checks (sourced; not a test itself: ctest runs only
# tests/cli/test_*.sh). Gives $T, a temporary directory removed on exit, and:
#   ok / bad MESSAGE                   count a passed / failed check (bad prints MESSAGE)
#   expect CODE PATTERN -- command...  the command exits CODE, and its stderr or stdout
#                                      matches PATTERN (grep -Ei; empty: anything)
#   finish                             prints the counts; its status is 0 when none failed
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect() {
    local code=$1 pat=$2; shift 3
    "$@" > "$T/out" 2> "$T/err"; local rc=$?
    [ "$rc" = "$code" ] || { bad "$* -> exit $rc, expected $code: $(cat "$T/err")"; return; }
    [ -z "$pat" ] || grep -Eqi -- "$pat" "$T/err" "$T/out" || { bad "$* -> no /$pat/: $(cat "$T/err")"; return; }
    ok
}
finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" = 0 ]
}
