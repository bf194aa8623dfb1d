#!/usr/bin/env bash
# optimist bench on a real Slurm: installs Debian's slurm-wlm (slurmctld, slurmd, munge)
# when missing, starts a one-node cluster on this machine (as root) with its own
# configuration in a temporary folder, submits the bench as a 4-task job array plus the
# dependent report job (the scripts `optimist bench --slurm` writes), waits for them, and
# checks the report against one process that ran the same suite. Stops its daemons on exit.
# Run it locally the same way: .ci/slurm-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ "$(id -u)" != 0 ]; then
    echo "slurm-test: needs root (it installs and starts slurmctld, slurmd and munged)" >&2
    exit 1
fi
for tool in slurmctld slurmd sbatch squeue sinfo munged; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            slurm-wlm slurmctld slurmd slurm-client munge
        break
    fi
done

cargo build --release -p optimist-cli --quiet
bin=$repo/target/release/optimist

work=$(mktemp -d /tmp/optimist-slurm.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${munge_pid:-}" ]; then kill "$munge_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# munge: its own key and socket, so a system munged (if any) is left alone.
mkdir -p "$work/munge" && chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed"
munge_pid=$(cat "$work/munge/munged.pid")

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/ctld" "$work/d" "$work/log"
export SLURM_CONF=$work/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=optimist-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/ctld
SlurmdSpoolDir=$work/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then break; fi
    sleep 1
done
if ! sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)'; then
    echo "slurm-test: the node did not come up" >&2
    sinfo >&2 || true
    tail -n 20 "$work"/log/* >&2
    exit 1
fi
echo "slurm-test: one-node cluster up ($host, $cpus CPUs)"

# A small suite (seconds of work): a noisy landscape, the noisy quadratic model and
# logistic regression on the repository's MNIST test set.
suite=(--problem rosenbrock:budget=200 --problem nqm:dim=2000,budget=200
       --problem logreg:budget=100 -o sgd -o momentum -o adam
       --seeds 3 --trials 6 --data "$repo/data/mnist")
"$bin" bench "${suite[@]}" --out "$work/cluster" --slurm --slurm-tasks 4
sh "$work/cluster/slurm/submit.sh"
for _ in $(seq 600); do
    if [ -z "$(squeue -h 2>/dev/null)" ]; then break; fi
    sleep 1
done
if [ -n "$(squeue -h)" ]; then
    echo "slurm-test: jobs still queued after 10 minutes" >&2
    squeue >&2
    exit 1
fi
cat "$work/cluster/slurm/report.out"
for i in 0 1 2 3; do
    grep -q "shard $i/4 done" "$work/cluster/slurm/shard-$i.out" \
        || { echo "slurm-test: shard $i did not finish:" >&2; cat "$work/cluster/slurm/shard-$i.out" >&2; exit 1; }
done
test -s "$work/cluster/report.md" || { echo "slurm-test: no report.md" >&2; exit 1; }

"$bin" bench "${suite[@]}" --out "$work/single" >/dev/null 2>&1
status=0
for f in "$work"/single/*.md "$work"/single/*.csv "$work"/single/*.png; do
    if ! cmp -s "$f" "$work/cluster/$(basename "$f")"; then
        echo "slurm-test: $(basename "$f") differs from the single-process run" >&2
        status=1
    fi
done
if [ "$status" = 0 ]; then
    echo "slurm-test: the report of the 4-task job array is byte-identical to one process's ($(ls "$work"/single/*.md "$work"/single/*.csv "$work"/single/*.png | wc -l) files)"
    rm -rf "$work"
fi
exit "$status"
