# Front door: `make demo` and `make check` set up a fresh Debian 12 machine (apt-get, as
# root or through sudo), configure, build, and then run the demo or every test.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# Debian packages the build needs (make demo installs only these), and those the tests and
# benchmarks add (make check): chromium, for the report test in a real headless browser;
# groff-base .. binutils, for the man page, service and package checks; parallel .. jsonlite
# for the README's batch snippets; mosquitto and its clients, a real broker for --mqtt; praat,
# which reads the TextGrid of analyze -f textgrid in a test; slurm-wlm and munge, a real
# single-node Slurm that cli_test_slurm starts for the README's job array.
# check (libcheck) is a build package: CMake builds the unit tests only when it finds it.
BUILD_PKGS = build-essential cmake pkg-config portaudio19-dev libsndfile1-dev libkissfft-dev \
       check libebur128-dev libsoxr-dev libcjson-dev libasound2-dev libmosquitto-dev
TEST_PKGS = ffmpeg sox python3 python3-numpy chromium groff-base man-db systemd dpkg-dev file binutils \
       parallel python3-pandas r-base-core r-cran-jsonlite mosquitto mosquitto-clients praat \
       slurm-wlm munge
PKGS = $(BUILD_PKGS)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-test configure build demo check check-asan check-tsan screenshot fuzz fuzz-build fuzz-ci clean install deb \
        deps-arm64 cross-arm64 check-arm64 deb-arm64 deb-root-arm64

all: build

deps:
	@missing=$$(for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

deps-test:
	$(MAKE) deps PKGS="$(BUILD_PKGS) $(TEST_PKGS)"

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/crymeter analyze samples/demo.flac
	./$(BUILD)/crymeter analyze --format jsonl samples/demo.flac

check: deps-test
	$(MAKE) build
	CK_FORK=$${CK_FORK:-no} ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# docs/report.png, the README's picture of the night report (headless Chromium).
screenshot: build
	bash docs/screenshot.sh ./$(BUILD)/crymeter

# Same tests under AddressSanitizer + UndefinedBehaviorSanitizer. Check's fork mode and
# LeakSanitizer do not mix (libcheck #358), hence CK_FORK=no.
check-asan:
	LSAN_OPTIONS="$${LSAN_OPTIONS:-suppressions=$(CURDIR)/tests/fuzz/lsan.supp}" \
	  $(MAKE) check BUILD=build-asan BUILD_TYPE=Debug CMAKE_ARGS="-DCM_SANITIZE=ON"

# The ring-buffer stress test, the analyzer (its loudness thread) and the capture tests (the
# worker, the scripted source's delivery thread, a stop that abandons a hung source) under
# ThreadSanitizer. CK_FORK=no: a race reported in a forked Check child would not reach ctest. halt_on_error makes any
# report fail the test even outside .ci/run; --no-tests=error: a filter matching nothing
# (e.g. Check missing) fails instead of passing silently.
check-tsan:
	$(MAKE) build BUILD=build-tsan BUILD_TYPE=Debug CMAKE_ARGS="-DCM_TSAN=ON"
	CK_FORK=no TSAN_OPTIONS="$${TSAN_OPTIONS:-halt_on_error=1}" \
	  ctest --test-dir build-tsan --output-on-failure --no-tests=error -R 'ring|analyzer|capture'

# libFuzzer harnesses (tests/fuzz/README.md) built with clang, ASan and UBSan into
# build-fuzz, then each target run by tests/fuzz/run.sh for FUZZ_SECONDS or FUZZ_RUNS
# executions, whichever ends first, one target at a time at nice 19, over build-fuzz/corpus
# (seeded from tests/fuzz/corpus, kept between runs). A crash, leak or UB report stops the
# run and leaves the input in build-fuzz/artifacts/. fuzz-ci: a fixed number of executions
# per target from the seeds alone, with a fixed seed, so its work does not depend on the
# machine's speed (about 40 s of fuzzing plus 38 s to build build-fuzz from nothing). Its
# per-input timeout is 300 s, not 10: a wall-clock limit is a speed test, and on a loaded
# CI machine a malformed AIFF that takes libsndfile 0.9 s alone (393,000 small reads in
# a comment chunk that claims 65,535 comments) passed 10 s; a hang still fails.
FUZZ_TARGETS ?= model labels manifest options reader
FUZZ_SECONDS ?= 30
FUZZ_RUNS    ?= -1
FUZZ_CI      ?= model:20000 labels:100000 manifest:100000 options:100000 reader:1500
FUZZ_PKGS    = clang-14 libclang-rt-14-dev
FUZZ_CC      ?= $(shell command -v clang-14 || command -v clang || echo clang-14)

fuzz-build:
	$(MAKE) deps PKGS="$(PKGS) $(FUZZ_PKGS)"
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCM_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))

fuzz: fuzz-build
	tests/fuzz/run.sh -t $(FUZZ_SECONDS) -r $(FUZZ_RUNS) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	tests/fuzz/run.sh -t 0 -s 1 -T 300 -f -c build-fuzz/ci-corpus $(FUZZ_CI)

# Installs the tool, libcrymeter (shared and static), crymeter.h, crymeter.pc, the man
# pages, the systemd unit and its config under PREFIX (DESTDIR=... stages it). The prefix
# is configured in, so the unit's ExecStart and /etc (for /usr: /etc) are right.
PREFIX ?= /usr/local
install: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	cmake --install $(BUILD)

# A Debian package of the tool, the library (shared, static, header, crymeter.pc), the man
# page and the service, in $(BUILD)/: crymeter_VERSION_ARCH.deb (cpack; dependencies from
# dpkg-shlibdeps). Install it with: apt install ./$(BUILD)/crymeter_*.deb
deb: build
	cd $(BUILD) && cpack -G DEB

# arm64 (a Raspberry Pi 4 or 5, or any arm64 Debian), cross-built here with Debian's own
# tools: crossbuild-essential-arm64 and the arm64 -dev packages of BUILD_PKGS beside the
# host's (multiarch: dpkg --add-architecture arm64), configured by cmake/toolchain-arm64.cmake.
# check-arm64 runs every test of the arm64 build under qemu-user (ctest puts the emulator
# before the unit tests; the CLI tests reach the tool through build-arm64/emu/crymeter) and
# compares its records with the host build's (tests/arch/same_answers.sh); deb-arm64 writes
# build-arm64/crymeter_VERSION_arm64.deb.
ARM64_BUILD ?= build-arm64
ARM64_PKGS = crossbuild-essential-arm64 qemu-user \
       $(addsuffix :arm64,$(filter-out build-essential cmake pkg-config,$(BUILD_PKGS)))

deps-arm64:
	@if ! dpkg --print-foreign-architectures | grep -qx arm64; then \
	  echo "Adding the arm64 architecture (dpkg --add-architecture arm64)"; \
	  $(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -q; \
	fi
	$(MAKE) deps PKGS="$(BUILD_PKGS) $(ARM64_PKGS)"

cross-arm64: deps-arm64
	cmake -S . -B $(ARM64_BUILD) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-arm64.cmake \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCM_HOST_CRYMETER=$(CURDIR)/$(BUILD)/crymeter $(CMAKE_ARGS)
	cmake --build $(ARM64_BUILD) -j $(JOBS)

check-arm64: deps-test
	$(MAKE) build
	$(MAKE) cross-arm64
	CK_FORK=$${CK_FORK:-no} ctest --test-dir $(ARM64_BUILD) --output-on-failure -j $(JOBS)

deb-arm64: cross-arm64
	cd $(ARM64_BUILD) && cpack -G DEB

# The arm64 package installed with apt into a fresh Debian 12 arm64 root (debootstrap, kept in
# $(ARM64_BUILD)/root) and run there through qemu-user-static (tests/arch/deb_root.sh).
deb-root-arm64: deb-arm64
	$(MAKE) build
	$(MAKE) deps PKGS="debootstrap qemu-user-static"
	bash tests/arch/deb_root.sh $$(ls $(ARM64_BUILD)/crymeter_*_arm64.deb | head -1) $(BUILD)/crymeter \
	  $(CURDIR)/$(ARM64_BUILD)/root

clean:
	rm -rf build build-asan build-tsan build-fuzz build-arm64
