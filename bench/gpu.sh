#!/usr/bin/env bash
# The accelerator run: in ONE device call (the lent machine's time is short), the whole `rewardkit
# bench` datacenter preset on native and webgpu with the PyTorch peers, the upload-path measurement,
# and the issue-target suites. Everything (JSON, HTML, markdown, logs) lands in $OUT.
#
#   here:    npm install && npm run build && bash ../shared/device/pack.sh
#   device:  run(command: "bash .device/run.sh bash bench/gpu.sh", carry: [".device", "dist", "build"])
#
# Each step has its own time limit so one slow step cannot eat the call; the limits add up to about
# 9 minutes. `rewardkit bench` stops cleanly on the timeout's SIGTERM and writes what it measured. A step that fails or times out is logged and the run goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu}
mkdir -p "$OUT"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
# PRESET=smoke bash bench/gpu.sh checks the script itself on any machine in a few minutes.

step() { # name seconds command...
  local name=$1 limit=$2; shift 2
  echo "== $name ($(date +%T))" | tee -a "$OUT/summary.log"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  grep -v 'artificially reduced' "$OUT/$name.log" | tail -40 >> "$OUT/summary.log"
  [ $rc -eq 0 ] || echo "!! $name exited with $rc" | tee -a "$OUT/summary.log"
}

node dist/lib/cli/main.js doctor --json > "$OUT/doctor.json" 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv > "$OUT/nvidia-smi.csv" 2>&1
step bench 330 node dist/lib/cli/main.js bench --preset "${PRESET:-datacenter}" --backend js,native,webgpu,torch-cuda,numpy \
  --time 100 --max-call 1500 --json "$OUT/bench.json" --html "$OUT/bench.html" --md "$OUT/bench.md"
step heads 60 node dist/bench/heads.js --backends native,webgpu --big --peak 67 --out "$OUT/heads.json"
step torch-peers 60 python3 bench/py/torch_peers.py --device cuda --scale big --out "$OUT/torch-peers.json"
step stepper 30 node dist/bench/stepper.js --backends native,webgpu --out "$OUT/stepper.json"
echo "done ($(date +%T))" | tee -a "$OUT/summary.log"
