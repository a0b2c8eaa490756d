#!/usr/bin/env bash
# The README's Slurm job array on a real single-node Slurm (issue 22, part 3): Debian's
# munge and slurm-wlm, started here on free ports with their state in the test's directory
# and stopped after. The README's script, submitted with the README's sbatch line, runs one
# task per recording of a list holding three copies of the demo, a FLAC cut off and a file
# that is not audio:
#   - each good task writes out/NAME.jsonl, identical to a direct `crymeter analyze -f jsonl`,
#     and exits 0 (scontrol shows the exit code per array task);
#   - the cut-off file's task exits 1 with its summary up to the damage and the message in
#     its log; the unreadable file's task exits 1 with an error record; neither disturbs the
#     others;
#   - every task has its log, logs/JOB_TASK.txt.
# Exits 77 (ctest: skipped) with the reason only where this machine cannot run Slurm: not
# installed (make deps installs slurm-wlm and munge), not root, or a daemon that does not
# come up. Waiting is for an event (the node idle, the array done), bounded at minutes.
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
skip() { echo "skipped: $*"; exit 77; }
for t in munged mungekey slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v $t >/dev/null || skip "$t not installed (make deps installs slurm-wlm and munge)"
done
[ "$(id -u)" = 0 ] || skip "slurmd runs jobs as their users only when started as root"
readme=$CM_SOURCE_DIR/README.md
demo=$CM_SOURCE_DIR/samples/demo.flac
block() { # MARKER -> the fenced block after <!-- MARKER
    awk -v m="<!-- $1" 'index($0, m) == 1 { f = 1; next }
        f == 1 && /^```/ { f = 2; next } f == 2 && /^```/ { exit } f == 2' "$readme"
}
# The sbatch line, as the README gives it in the text above the script (over two lines).
submit=$(awk '/sbatch --array=/ { s = $0; getline n; print s " " n }' "$readme" |
    grep -o 'sbatch --array=.*crymeter.sbatch')
echo "submitting as the README says: $submit"
[ -n "$submit" ] && ok || { bad "README has no sbatch --array line"; finish; exit 1; }

S=$T/slurm
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log"
chmod 700 "$S/munge"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$S/munge/munged.pid" ] && kill "$(cat "$S/munge/munged.pid")" 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
mungekey -c -k "$S/munge/munge.key" || skip "mungekey cannot create a key"
munged --force --key-file="$S/munge/munge.key" --socket="$S/munge/munge.sock" \
    --pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" \
    --seed-file="$S/munge/munged.seed" || skip "munged does not start: $(tail -3 "$S/munge/munged.log")"
read -r p1 p2 < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
host=$(hostname -s)
cat > "$S/slurm.conf" <<EOF
ClusterName=crymetertest
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmctldPort=$p1
SlurmdPort=$p2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MinJobAge=3600
NodeName=$host CPUs=$(nproc) RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$S/slurm.conf
slurmctld -D -f "$SLURM_CONF" > "$S/log/ctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$S/log/d.out" 2>&1 &
pids+=($!)
# wait_for SECONDS CONDITION...: polls until the condition holds; 1 when it never did.
wait_for() {
    local until=$((SECONDS + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt "$until" ] || return 1
        sleep 0.5
    done
}
idle() { [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; }
wait_for 120 idle || skip "the Slurm node did not come up: $(tail -3 "$S/log/slurmd.log" "$S/log/slurmctld.log" 2>/dev/null)"
ok

export PATH="$(dirname "$CRYMETER"):$PATH"
W=$T/w
mkdir -p "$W/rec" && cd "$W"
cp "$demo" rec/a.flac; cp "$demo" rec/b.flac; cp "$demo" rec/c.flac
head -c 20000 "$demo" > rec/broken.flac   # a FLAC cut off after 20 kB: damaged
echo "not audio" > rec/junk.flac            # unreadable
find "$W/rec" -name '*.flac' | sort > todo.txt
mkdir out logs
block batch-slurm > crymeter.sbatch
job=$(eval "$submit" | awk '/Submitted batch job/ { print $4 }')
[ -n "$job" ] && ok || { bad "sbatch did not submit: $submit"; finish; exit 1; }
done_() { [ -z "$(squeue -h -j "$job" 2>/dev/null)" ]; }
wait_for 600 done_ && ok || bad "array $job still queued or running: $(squeue -j "$job")"

n=$(wc -l < todo.txt)
for ((i = 0; i < n; i++)); do
    f=$(sed -n "$((i + 1))p" todo.txt)
    name=$(basename "${f%.*}")
    [ -s "logs/${job}_$i.txt" ] || [ -e "logs/${job}_$i.txt" ] && ok || bad "no log for task $i"
    code=$(scontrol show job -o "${job}_$i" | grep -o 'ExitCode=[0-9]*:[0-9]*' | head -1)
    if [ "$name" = broken ]; then
        # Damaged: analysed up to the damage (a summary), the message in the task's log.
        [ "$code" = ExitCode=1:0 ] && ok || bad "task $i ($name): $code, expected ExitCode=1:0"
        grep -q '"type":"summary".*"frames_read":20480' "out/$name.jsonl" && ok ||
            bad "out/$name.jsonl: $(cat "out/$name.jsonl")"
        grep -q "broken.flac: decode error after 20480 frames" "logs/${job}_$i.txt" && ok ||
            bad "log of task $i: $(cat "logs/${job}_$i.txt")"
    elif [ "$name" = junk ]; then
        # Unreadable: an error record naming the file.
        [ "$code" = ExitCode=1:0 ] && ok || bad "task $i ($name): $code, expected ExitCode=1:0"
        grep -q '"type":"error".*junk.flac: not an audio file' "out/$name.jsonl" && ok ||
            bad "out/$name.jsonl has no error record: $(cat "out/$name.jsonl")"
    else
        [ "$code" = ExitCode=0:0 ] && ok || bad "task $i ($name): $code, expected ExitCode=0:0"
        crymeter analyze -f jsonl --no-progress "$f" > direct.jsonl
        cmp -s direct.jsonl "out/$name.jsonl" && ok || bad "out/$name.jsonl differs from crymeter analyze"
        [ "$(grep -c '"type":"episode"' "out/$name.jsonl")" -ge 3 ] && ok || bad "out/$name.jsonl: too few episodes"
    fi
done
[ "$(ls out | wc -l)" = "$n" ] && ok || bad "out/ holds $(ls out | wc -l) files for $n recordings"
finish
