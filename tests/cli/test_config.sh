#!/usr/bin/env bash
# --config FILE: settings from key = value lines reach the command, the command line wins,
# flags, quoting and comments work, and a bad key, value or line is named with FILE:LINE
# (exit 2) for analyze and monitor alike (monitor fails before opening any device).
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
demo=$CM_SOURCE_DIR/samples/demo.flac
[ -r "$demo" ] || { echo "missing $demo" >&2; exit 1; }
excessive() { grep -c '"flag": *true' "$1"; }

# Defaults: the demo's two cries are flagged loud (78-84 dB(A) with the default offset).
expect 0 "" -- "$CRYMETER" analyze -f jsonl "$demo"; cp "$T/out" "$T/default.jsonl"
[ "$(excessive "$T/default.jsonl")" -ge 1 ] && ok || bad "demo: no excessive episode by default"

cat > "$T/quiet.conf" <<'CONF'
# thresholds for a loud nursery
loud-db = 200

  format=jsonl
no-true-peak
CONF
expect 0 "" -- "$CRYMETER" analyze --config "$T/quiet.conf" "$demo"
[ "$(excessive "$T/out")" = 0 ] && ok || bad "loud-db = 200 from the file did not apply"
grep -q '"true_peak_dbtp": *null' "$T/out" && ok || bad "no-true-peak flag from the file did not apply"
# The command line wins, before or after --config, and --config=FILE works too.
expect 0 "" -- "$CRYMETER" analyze --loud-db 70 --config "$T/quiet.conf" "$demo"
[ "$(excessive "$T/out")" -ge 1 ] && ok || bad "--loud-db on the command line did not win"
expect 0 "" -- "$CRYMETER" analyze "--config=$T/quiet.conf" -f csv "$demo"
head -1 "$T/out" | grep -q , && ! grep -q '^{' "$T/out" && ok || bad "-f csv did not win over format=jsonl"
# The file's settings equal the same long options.
expect 0 "" -- "$CRYMETER" analyze -f jsonl --loud-db 200 --no-true-peak "$demo"
cp "$T/out" "$T/opts.jsonl"
"$CRYMETER" analyze --config "$T/quiet.conf" "$demo" > "$T/cfg.jsonl"
cmp -s "$T/opts.jsonl" "$T/cfg.jsonl" && ok || bad "config output differs from the same options"

# Flags: bare, yes, no; quoted values keep their spaces.
out=$T/out.jsonl
"$CRYMETER" analyze -f jsonl -o "$out" "$demo" || bad "first write of $out"
printf 'output = "%s"\nforce = no\n' "$out" > "$T/noforce.conf"
expect_stderr 2 "exists; use --force" -- "$CRYMETER" analyze --config "$T/noforce.conf" "$demo"
printf 'output = "%s"\nforce = yes\n' "$out" > "$T/force.conf"
expect 0 "" -- "$CRYMETER" analyze --config "$T/force.conf" "$demo"

# Bad input names the file and line; exit 2; for any command.
printf '# ok\nloud-db = 80\nbogus-key = 1\n' > "$T/badkey.conf"
printf 'loud-db = 80\nlong-s = soon\n' > "$T/badval.conf"
printf 'loud-db = 80\n\n--loud-db = 3\n' > "$T/badline.conf"
printf 'config = other.conf\n' > "$T/nested.conf"
printf 'loud-db =\n' > "$T/empty.conf"
for cmd in analyze monitor; do
    args=(); [ "$cmd" = analyze ] && args=("$demo")
    expect_stderr 2 "badkey\.conf:3: .*--bogus-key=1" -- "$CRYMETER" $cmd --config "$T/badkey.conf" "${args[@]}"
    expect_stderr 2 "badval\.conf:2: --long-s=soon: expected a number" -- "$CRYMETER" $cmd --config "$T/badval.conf" "${args[@]}"
    expect_stderr 2 "badline\.conf:3: '--loud-db': expected 'key = value'" -- "$CRYMETER" $cmd --config "$T/badline.conf" "${args[@]}"
    expect_stderr 2 "nested\.conf:1: 'config' cannot be set" -- "$CRYMETER" $cmd --config "$T/nested.conf" "${args[@]}"
    expect_stderr 2 "empty\.conf:1: loud-db: no value" -- "$CRYMETER" $cmd --config "$T/empty.conf" "${args[@]}"
    expect_stderr 2 "--config=$T/none\.conf: cannot read: no such file" -- "$CRYMETER" $cmd --config "$T/none.conf" "${args[@]}"
    expect_stderr 2 "option --config needs a value" -- "$CRYMETER" $cmd --config
done
# A bad value on the command line is not blamed on the file.
expect_stderr 2 "^crymeter: --loud-db=x: expected" -- "$CRYMETER" analyze --config "$T/quiet.conf" --loud-db=x "$demo"
# The installed example config is accepted by monitor's parser (its only failure below is
# the device, not a key): every key in it is a monitor option.
conf=$CM_SOURCE_DIR/packaging/monitor.conf
if [ -r "$conf" ]; then
    keys=$(sed -n 's/^#\{0,1\} *\([a-z][a-z0-9-]*\) *=.*/\1/p' "$conf" | sort -u)
    help=$("$CRYMETER" monitor --help)
    for k in $keys; do
        grep -q -- "--$k\b" <<< "$help" && ok || bad "monitor.conf key '$k' is not a monitor option"
    done
else
    bad "missing $conf"
fi
finish
