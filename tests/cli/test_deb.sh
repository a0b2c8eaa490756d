#!/usr/bin/env bash
# The Debian package, as `make deb` builds it (cpack -G DEB, here into a temporary folder):
# its control data (shared-library dependencies from dpkg-shlibdeps, the library's shlibs
# and ldconfig trigger, monitor.conf as a conffile), its file list, the unit's paths in
# /usr and /etc, apt's dry run accepting it, and the tool extracted with dpkg -x running
# --version and the demo with the same records as the built tool. A cross build's package
# (cmake/toolchain-arm64.cmake) is checked the same way, its tool run under CM_EMULATOR, and
# must name the target's architecture.
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?} CM_BUILD_DIR=${CM_BUILD_DIR:?}
E=${CM_EMULATOR:-}
. "$(dirname "$0")/lib.sh"
for t in cpack dpkg-deb dpkg-shlibdeps; do
    command -v $t >/dev/null || { echo "missing $t (make deps installs cmake and dpkg-dev)" >&2; exit 1; }
done
expect 0 "package: .*\.deb generated" -- cpack -G DEB -B "$T/pkg" --config "$CM_BUILD_DIR/CPackConfig.cmake"
deb=$(ls "$T"/pkg/crymeter_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && ok || { bad "no .deb in $T/pkg"; finish; exit 1; }
version=$("$CRYMETER" --version | awk '{print $2}')
dpkg-deb -f "$deb" Package Version Architecture Depends > "$T/control"
# The architecture the tool was built for (e_machine of its ELF header), as Debian names it.
case $(od -An -tu2 -j18 -N2 "$CM_BUILD_DIR/crymeter" | tr -d ' ') in
    62) arch=amd64 ;; 183) arch=arm64 ;; *) arch=unknown ;;
esac
grep -qx "Architecture: $arch" "$T/control" && ok || bad "package architecture is not $arch: $(cat "$T/control")"
grep -qx "Package: crymeter" "$T/control" && ok || bad "package name: $(cat "$T/control")"
grep -qx "Version: $version" "$T/control" && ok || bad "package version is not $version"
for dep in libc6 libsndfile1 libportaudio2 libsoxr0 libebur128-1 libcjson1 libkissfft-float libmosquitto1; do
    grep -q "^Depends:.*\b$dep" "$T/control" && ok || bad "Depends lacks $dep: $(grep Depends "$T/control")"
done
dpkg-deb -e "$deb" "$T/ctl"
[ "$(cat "$T/ctl/conffiles")" = /etc/crymeter/monitor.conf ] && ok || bad "conffiles: $(cat "$T/ctl/conffiles")"
grep -q "^libcrymeter 0 crymeter" "$T/ctl/shlibs" && ok || bad "no shlibs entry for libcrymeter.so.0"
grep -q "ldconfig" "$T/ctl/triggers" && ok || bad "no ldconfig trigger"
for s in postinst prerm postrm; do sh -n "$T/ctl/$s" && ok || bad "$s: syntax"; done

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$T/files"
for f in /usr/bin/crymeter /usr/lib/libcrymeter.so.0 /usr/lib/libcrymeter.so /usr/lib/libcrymeter.a \
         /usr/include/crymeter.h /usr/lib/pkgconfig/crymeter.pc /usr/share/man/man1/crymeter.1.gz \
         /usr/share/man/man3/crymeter.3.gz \
         /usr/lib/systemd/system/crymeter-monitor.service /etc/crymeter/monitor.conf \
         /usr/lib/python3/dist-packages/crymeter/__init__.py \
         /usr/lib/python3/dist-packages/crymeter/_libpath.py; do
    grep -qx -- "$f" "$T/files" && ok || bad "package lacks $f"
done
grep -q "^/usr/include/crymeter/" "$T/files" && bad "package ships internal headers" || ok

R=$T/root
dpkg -x "$deb" "$R"
unit=$R/usr/lib/systemd/system/crymeter-monitor.service
grep -q '^ExecStart=.*"/usr/bin/crymeter" monitor --config "/etc/crymeter/monitor.conf"' "$unit" &&
    ok || bad "unit ExecStart: $(grep ExecStart "$unit")"
expect 0 "^crymeter $version\$" -- $E "$R/usr/bin/crymeter" --version
demo=$CM_SOURCE_DIR/samples/demo.flac
"$CRYMETER" analyze -f jsonl "$demo" > "$T/built.jsonl" || bad "built tool failed on the demo"
expect 0 "" -- $E "$R/usr/bin/crymeter" analyze -f jsonl "$demo"
cmp -s "$T/out" "$T/built.jsonl" && ok || bad "extracted tool's records differ from the built tool's"
[ "$(grep -c '"type":"episode"' "$T/out")" -ge 2 ] && ok || bad "extracted tool found fewer than 2 episodes"
# The packaged Python module, on the packaged library (as the extracted root holds them); the
# host's python3 cannot load another architecture's library, so a cross build checks the file.
grep -qx "LIBRARY = '/usr/lib/libcrymeter.so.0'" "$R/usr/lib/python3/dist-packages/crymeter/_libpath.py" &&
    ok || bad "packaged _libpath.py: $(cat "$R/usr/lib/python3/dist-packages/crymeter/_libpath.py")"
# (A sanitized library loads into python only after the sanitizer runtimes: make check-asan.)
pre=""
[ "${CM_SANITIZE:-OFF}" = ON ] &&
    pre="LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so) ASAN_OPTIONS=detect_leaks=0"
if [ -z "$E" ]; then
    expect 0 "cls='cry'" -- env $pre PYTHONPATH="$R/usr/lib/python3/dist-packages" \
        CRYMETER_LIBRARY="$R/usr/lib/libcrymeter.so.0" /usr/bin/python3 -c \
        "import crymeter; print(crymeter.analyze('$demo'))"
else
    echo "skipped under $E: importing the packaged module (its library is not the host's architecture)"
fi
# The man page from the package renders.
MANWIDTH=80 man -l "$R/usr/share/man/man1/crymeter.1.gz" 2>&1 | grep -q "crymeter analyze" && ok || bad "packaged man page does not render"
# apt accepts the package's dependencies (a dry run: nothing is installed).
if command -v apt-get >/dev/null; then
    expect 0 "Inst crymeter" -- apt-get install --simulate --no-install-recommends "$deb"
fi
finish
