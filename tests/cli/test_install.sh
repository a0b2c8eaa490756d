#!/usr/bin/env bash
# cmake --install into a staging DESTDIR under the build folder, then, using only what was
# installed: the file layout (one public header, no internal ones), the shared library's
# soname and its exported symbols (crymeter_* only), no learning code in the library (shared
# or static), crymeter.pc, and examples/ built with
# `pkg-config --cflags --libs crymeter` (shared, and static with --static) and run on the
# demo with the same episodes as `crymeter analyze -f jsonl`. In a cross build the examples
# are compiled with its compiler (CM_CC) and everything installed runs under CM_EMULATOR.
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?} CM_BUILD_DIR=${CM_BUILD_DIR:?}
E=${CM_EMULATOR:-} CC=${CM_CC:-cc}
. "$(dirname "$0")/lib.sh"
# needed PROGRAM: the libraries its loader resolves (ldd runs the host's loader, so a cross
# build asks the program's own, named in its ELF header, under the emulator).
needed() {
    if [ -z "$E" ]; then ldd "$1"; return; fi
    local interp
    interp=$(readelf -l "$1" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
    $E "$interp" --list "$1"
}
S=$CM_BUILD_DIR/stage-test
rm -rf "$S"
expect 0 "" -- env DESTDIR="$S" cmake --install "$CM_BUILD_DIR" --prefix /usr
P=$S/usr
pc=$(find "$P" -name crymeter.pc | head -1)
[ -n "$pc" ] && ok || bad "no crymeter.pc under $P"
libdir=$(dirname "$(dirname "$pc")")
for f in "$P/bin/crymeter" "$P/include/crymeter.h" "$libdir/libcrymeter.a" "$P/share/man/man1/crymeter.1.gz" "$P/share/man/man3/crymeter.3.gz" \
         "$P/lib/systemd/system/crymeter-monitor.service" \
         "$libdir/libcrymeter.so" "$libdir/libcrymeter.so.0"; do
    [ -e "$f" ] && ok || bad "not installed: ${f#$S}"
done
[ ! -e "$P/include/crymeter" ] && ok || bad "internal headers installed under include/crymeter"
expect 0 "crymeter [0-9]+\.[0-9]+\.[0-9]+" -- $E "$P/bin/crymeter" --version

# ABI: the soname, and nothing but crymeter_* exported (internal cm_* stay hidden).
readelf -d "$libdir/libcrymeter.so.0" | grep -q 'SONAME.*\[libcrymeter\.so\.0\]' && ok || bad "soname is not libcrymeter.so.0"
exported=$(nm -D --defined-only "$libdir/libcrymeter.so.0" | awk '{print $3}' | sort)
others=$(printf '%s\n' "$exported" | grep -v '^crymeter_' || true)
[ -z "$others" ] && ok || bad "exported besides crymeter_*: $others"
# Every function the header declares is exported (and nothing else is, above).
declared=$(grep -oE '^crymeter_[a-z0-9_]+\(|[ *]crymeter_[a-z0-9_]+\(' "$P/include/crymeter.h" |
           tr -d ' *(' | sort -u)
[ "$declared" = "$exported" ] && ok || bad "header declares [$declared], library exports [$exported]"
# The runtime holds no learning code (src/learn: training, metrics, labels, mixtures, sob
# generator and calibration), shared or static; one defined symbol of each of its modules.
for lib in "$libdir/libcrymeter.so.0" "$libdir/libcrymeter.a"; do
    learn=$(nm --defined-only "$lib" 2>/dev/null | awk '{print $3}' |
            grep -E '^(cm_train|cm_train_trees|cm_choose_threshold|cm_rng_next|cm_mix_generate|cm_f1|cm_manifest_parse|cm_sobgen_render|cm_sobcal_choose|cd_[a-z_]+)$' || true)
    [ -z "$learn" ] && ok || bad "${lib##*/} holds learning code: $learn"
done

# The header stands alone, in C and C++.
printf '#include <crymeter.h>\nint main(void){return crymeter_version_number()==CRYMETER_VERSION_NUMBER?0:1;}\n' > "$T/alone.c"
expect 0 "" -- cc -std=c99 -Wall -Wextra -Werror -I"$P/include" -fsyntax-only "$T/alone.c"
if command -v c++ >/dev/null; then
    cp "$T/alone.c" "$T/alone.cc"
    expect 0 "" -- c++ -Wall -Werror -I"$P/include" -fsyntax-only "$T/alone.cc"
fi

# Only the staged .pc is visible: building on libcrymeter needs no other package's .pc.
export PKG_CONFIG_LIBDIR="$libdir/pkgconfig"
expect 0 "^0\.[0-9]" -- pkg-config --modversion crymeter
flags=$(pkg-config --cflags --libs crymeter)
case "$flags" in *"$S"*) ok ;; *) bad "pkg-config flags do not point into the stage: $flags" ;; esac
ex=$CM_SOURCE_DIR/examples/crymeter_example.c
# A sanitizer build's static library holds calls into the sanitizer runtimes, which only a
# link with the same -fsanitize brings in (make check-asan).
san=""
[ "${CM_SANITIZE:-OFF}" = ON ] && san="-fsanitize=address,undefined"
expect 0 "" -- $CC -std=c11 -Wall -Wextra -Werror $san "$ex" $flags -o "$T/example"
expect 0 "" -- $CC -std=c11 -Wall -Wextra -Werror $san "$ex" $(pkg-config --cflags crymeter) \
    -Wl,-Bstatic -lcrymeter -Wl,-Bdynamic $(pkg-config --static --libs crymeter) -o "$T/example_static"
# The static one must not need libcrymeter.so at run time.
# (Not under -fsanitize: it links with --no-as-needed, which keeps the second, dynamic
# -lcrymeter of the pkg-config line as an unused DT_NEEDED.)
if [ -z "$san" ]; then
    needed "$T/example_static" 2>/dev/null | grep -q libcrymeter && bad "static example links libcrymeter.so" || ok
fi

demo=$CM_SOURCE_DIR/samples/demo.flac
sox "$demo" -t raw -e signed -b 16 -L "$T/demo.s16" || bad "sox could not convert $demo"
rate=$(soxi -r "$demo") ch=$(soxi -c "$demo")
"$CRYMETER" analyze -f jsonl "$demo" > "$T/cli.jsonl" || bad "crymeter analyze failed"
episodes() { # FILE -> "class start end" per episode, times to the millisecond
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "episode": print(r["class"], "%.3f" % r["start_s"], "%.3f" % r["end_s"])' "$1"
}
episodes "$T/cli.jsonl" > "$T/cli.txt"
[ "$(wc -l < "$T/cli.txt")" -ge 2 ] && ok || bad "the CLI found fewer than 2 episodes in the demo"
for prog in example example_static; do
    LD_LIBRARY_PATH="$libdir" $E "$T/$prog" "$rate" "$ch" < "$T/demo.s16" > "$T/$prog.jsonl" ||
        bad "$prog failed"
    episodes "$T/$prog.jsonl" > "$T/$prog.txt"
    diff -u "$T/cli.txt" "$T/$prog.txt" && ok || bad "$prog: episodes differ from crymeter analyze"
done
# The shared example really loads the staged library.
LD_LIBRARY_PATH="$libdir" needed "$T/example" | grep -q "$libdir/libcrymeter.so.0" && ok ||
    bad "example does not load $libdir/libcrymeter.so.0"
expect 2 "usage: .*libcrymeter 0\." -- env LD_LIBRARY_PATH="$libdir" $E "$T/example"
rm -rf "$S"
finish
