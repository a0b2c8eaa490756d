#!/usr/bin/env bash
# docs/crymeter.1 and crymeter.3: render without a single warning (groff -ww and man-db's --warnings),
# documents every option of every command's --help in that command's section, carries
# the tool's version, and names each exit status and record type.
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
page=$CM_SOURCE_DIR/docs/crymeter.1
[ -r "$page" ] || { echo "missing $page" >&2; exit 1; }
command -v groff >/dev/null || { echo "groff not installed (make deps installs groff)" >&2; exit 1; }

expect 0 "" -- groff -man -ww -z "$page"
[ -s "$T/err" ] && bad "groff warnings: $(cat "$T/err")" || ok
if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$page" > "$T/page.txt" 2> "$T/warn" && ok || bad "man -l failed"
    [ -s "$T/warn" ] && bad "man --warnings: $(cat "$T/warn")" || ok
    [ "$(wc -l < "$T/page.txt")" -gt 300 ] && ok || bad "rendered page is short"
else
    bad "man not installed (make deps installs man-db)"
fi

# The options of each command's --help in that command's section of the page.
section() { # CMD -> the page from '.SS "crymeter CMD' to the next .SS or .SH, dashes plain
    sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page" |
        awk -v h=".SS \"crymeter $1" 'index($0, h) == 1 { on = 1; next }
            on && /^\.S[SH] / { on = 0 } on'
}
for cmd in analyze monitor calibrate adapt evaluate frames; do
    sec=$(section "$cmd")
    [ -n "$sec" ] && ok || bad "no section for $cmd"
    for o in $("$CRYMETER" $cmd --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
        [ "$o" = --help ] && continue
        grep -qF -- "$o" <<< "$sec" && ok || bad "man page, section $cmd: $o missing"
    done
done
tone=$(section "calibrate --tone")
for o in $("$CRYMETER" calibrate --tone --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
    grep -qF -- "$o" <<< "$tone" && ok || bad "man page, calibrate --tone: $o missing"
done
# Commands listed by crymeter --help each have a section.
for cmd in $("$CRYMETER" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p'); do
    grep -q "^\.SS \"crymeter $cmd" "$page" && ok || bad "no man section for command $cmd"
done
version=$("$CRYMETER" --version | awk '{print $2}')
grep -q "^\.TH CRYMETER 1 .*\"crymeter $version\"" "$page" && ok || bad ".TH does not say crymeter $version"
plain=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")
for code in 0 1 2 3; do
    sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$page" | grep -qx "\.B $code" && ok || bad "exit status $code not described"
done
for rec in episode start excessive summary monitor error; do
    sed -n '/^\.SH OUTPUT RECORDS/,/^\.SH /p' "$page" | grep -qE "^\.BR? $rec\b" && ok || bad "record type $rec not described"
done
grep -qF -- "--config" <<< "$plain" && ok || bad "--config not described"

# crymeter(3): silent too, and it names every function include/crymeter.h declares.
page3=$CM_SOURCE_DIR/docs/crymeter.3
expect 0 "" -- groff -man -ww -z "$page3"
[ -s "$T/err" ] && bad "groff warnings (crymeter.3): $(cat "$T/err")" || ok
MANWIDTH=80 man --warnings -l "$page3" > /dev/null 2> "$T/warn"
[ -s "$T/warn" ] && bad "man --warnings (crymeter.3): $(cat "$T/warn")" || ok
fns=$(grep -oE '(^|[ *])crymeter_[a-z0-9_]+\(' "$CM_SOURCE_DIR/include/crymeter.h" | tr -d ' *(' | sort -u)
[ "$(wc -w <<< "$fns")" -ge 14 ] && ok || bad "found only $(wc -w <<< "$fns") functions in crymeter.h"
for f in $fns; do
    grep -q "\b$f(" <(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$page3") &&
        grep -q "\b$f\b" <(sed -n '/^\.SH NAME/,/^\.SH /p' "$page3") &&
        ok || bad "crymeter.3 lacks $f in NAME or SYNOPSIS"
done
grep -q "^\.TH CRYMETER 3 .*\"crymeter $version\"" "$page3" && ok || bad "crymeter.3 .TH does not say crymeter $version"
finish
