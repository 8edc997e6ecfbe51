#!/usr/bin/env bash
# The accelerator run: every suite on native and webgpu at GPU sizes, plus the PyTorch peers, in ONE
# device call (the lent machine's time is short). Results (JSON and logs) land in $OUT.
#
#   here:    npm install && npm run build && bash ../shared/device/pack.sh
#   device:  run(command: "bash .device/run.sh bash bench/gpu.sh", carry: [".device", "dist", "build"])
#
# Each suite has its own time limit so one slow suite cannot eat the whole call; the limits add up
# to about 8 minutes. A suite that fails or times out is logged and the run goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu}
mkdir -p "$OUT"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

suite() { # name seconds command...
  local name=$1 limit=$2; shift 2
  echo "== $name ($(date +%T))" | tee -a "$OUT/summary.log"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  grep -v 'artificially reduced' "$OUT/$name.log" | tail -25 >> "$OUT/summary.log"
  [ $rc -eq 0 ] || echo "!! $name exited with $rc" | tee -a "$OUT/summary.log"
}

node -e "import('./dist/lib/index.js').then(async (r) => console.log(JSON.stringify(await r.backendStatus(), null, 2)))" > "$OUT/status.json" 2>&1
suite torch-peers 90 python3 bench/py/torch_peers.py --device cuda --scale big --out "$OUT/torch-peers.json"
suite grpo 60 node dist/bench/grpo.js --backends native,webgpu --out "$OUT/grpo.json"
suite logits 60 node dist/bench/logits.js --backends native,webgpu --big --out "$OUT/logits.json"
suite loss 50 node dist/bench/loss.js --backends native,webgpu --max 33554432 --out "$OUT/loss.json"
suite kl 40 node dist/bench/kl.js --backends native,webgpu --max 33554432
suite token 40 node dist/bench/token.js --backends native,webgpu --max 33554432
suite outcome 40 node dist/bench/outcome.js --webgpu --max 33554432
suite heads 60 node dist/bench/heads.js --backends native,webgpu --big --peak 67 --out "$OUT/heads.json"
suite pipeline 40 node dist/bench/pipeline.js --backends native,webgpu --big --out "$OUT/pipeline.json"
suite diffusion 30 node dist/bench/diffusion.js --backends native,webgpu --out "$OUT/diffusion.json"
suite stepper 30 node dist/bench/stepper.js --backends native,webgpu --out "$OUT/stepper.json"
echo "done ($(date +%T))" | tee -a "$OUT/summary.log"
