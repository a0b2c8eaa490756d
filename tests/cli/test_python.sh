#!/usr/bin/env bash
# The Python package as installed: `cmake --install` into a staging root (prefix /usr, as
# the .deb), then, with that root's dist-packages on PYTHONPATH and its library named by
# CRYMETER_LIBRARY, the README's one-liner and tests/cli/python_api.py (Debian's python3
# and python3-numpy, python3-pandas for to_pandas; make check installs them).
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?} CM_BUILD_DIR=${CM_BUILD_DIR:?}
. "$(dirname "$0")/lib.sh"
if [ -n "${CM_EMULATOR:-}" ]; then
    echo "skipped: cross build; the host's python3 cannot load a libcrymeter built for another architecture"
    exit 77
fi
PY=/usr/bin/python3
# A sanitized library (make check-asan) loads into python only after the sanitizer runtimes;
# python's own allocations at exit are not ours to report.
if [ "${CM_SANITIZE:-OFF}" = ON ]; then
    PY="env LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so) ASAN_OPTIONS=detect_leaks=0 /usr/bin/python3"
fi
S=$CM_BUILD_DIR/stage-python
rm -rf "$S"
expect 0 "" -- env DESTDIR="$S" cmake --install "$CM_BUILD_DIR" --prefix /usr
pkg=$S/usr/lib/python3/dist-packages
[ -f "$pkg/crymeter/__init__.py" ] && ok || bad "not installed: /usr/lib/python3/dist-packages/crymeter"
grep -q "^LIBRARY = '/usr/lib/.*libcrymeter.so.0'" "$pkg/crymeter/_libpath.py" && ok ||
    bad "_libpath.py: $(cat "$pkg/crymeter/_libpath.py")"
lib=$(find "$S" -name libcrymeter.so.0 | head -1)
export PYTHONPATH=$pkg CRYMETER_LIBRARY=$lib
cd "$CM_SOURCE_DIR"
expect 0 "Result\(episodes=\[Episode\(id=1, cls='cry', start_s=4\.2375" -- \
    $PY -c 'import crymeter; print(crymeter.analyze("samples/demo.flac"))'
expect 0 "python_api: 0 failed" -- $PY tests/cli/python_api.py "$CRYMETER" samples/demo.flac
[ "$fails" = 0 ] || cat "$T/out"
# Without a library to load: a clear ImportError, not a crash (unless the system has one).
cp -r "$pkg/crymeter" "$T/crymeter"
echo "LIBRARY = '/nonexistent/libcrymeter.so.0'" > "$T/crymeter/_libpath.py"
if ldconfig -p | grep -q 'libcrymeter\.so\.0'; then
    echo "libcrymeter.so.0 is installed system-wide: the missing-library check is skipped"
else
    expect 1 "cannot load libcrymeter.so.0 .*CRYMETER_LIBRARY" -- \
        env PYTHONPATH="$T" CRYMETER_LIBRARY=/nonexistent $PY -c 'import crymeter'
fi
finish
