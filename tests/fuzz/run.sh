#!/usr/bin/env bash
# Runs libFuzzer targets built by `make fuzz-build` (build-fuzz/fuzz_<target>), one at a
# time at nice 19, each over a corpus directory seeded from tests/fuzz/corpus/<target>.
# Usage: tests/fuzz/run.sh [options] TARGET[:RUNS]...
#   -t SECONDS  stop each target after this long (default 30; 0: no time limit)
#   -r RUNS     executions per target unless TARGET:RUNS says (default -1: no limit)
#   -s SEED     libFuzzer's -seed (default 0: a random seed, printed in the log)
#   -c DIR      corpus root (default build-fuzz/corpus, kept between runs); -f: empty it first
#   -T SECONDS  libFuzzer's -timeout: one input running longer is reported (default 10)
# A crash, leak, timeout or sanitizer report stops the run with libFuzzer's status and leaves
# the input in build-fuzz/artifacts/<target>-*; the whole log is build-fuzz/fuzz_<target>.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=30 runs=-1 seed=0 corpus=build-fuzz/corpus fresh=0 unit_timeout=10
while getopts "t:r:s:c:fT:" o; do
    case $o in
    t) secs=$OPTARG ;; r) runs=$OPTARG ;; s) seed=$OPTARG ;; c) corpus=$OPTARG ;; f) fresh=1 ;;
    T) unit_timeout=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
mkdir -p build-fuzz/artifacts
for spec in "$@"; do
    t=${spec%%:*} n=$runs
    [[ $spec == *:* ]] && n=${spec#*:}
    [[ $fresh == 1 ]] && rm -rf "$corpus/$t"
    mkdir -p "$corpus/$t"
    cp -n tests/fuzz/corpus/"$t"/* "$corpus/$t/"
    dict=()
    [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
    echo "== fuzz_$t: ${secs} s or $n runs, seed $seed, corpus $corpus/$t"
    rc=0
    start=$(date +%s)
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n 19 "./build-fuzz/fuzz_$t" "${dict[@]}" -seed="$seed" -max_total_time="$secs" \
        -runs="$n" -max_len=65536 -timeout="$unit_timeout" -rss_limit_mb=2048 -close_fd_mask=2 \
        -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" "$corpus/$t" \
        >"build-fuzz/fuzz_$t.log" 2>&1 || rc=$?
    grep -E '(INITED|DONE) |^stat::(number|average|new|peak)|ERROR|SUMMARY|^artifact' \
        "build-fuzz/fuzz_$t.log" || true
    echo "   fuzz_$t: status $rc after $(($(date +%s) - start)) s"
    if [[ $rc != 0 ]]; then
        tail -n 60 "build-fuzz/fuzz_$t.log"
        exit "$rc"
    fi
done
