#!/usr/bin/env bash
# The KaoKore paper's Table 2 grid (7 architectures x gender/status, the exact version 1.0
# split) on the GPU machine this project is lent at times, as it is, within 540 s.
#
# What that machine allows, and how this script fits it:
# - Its python3 has torch, torchvision, numpy and Pillow but no SQLAlchemy: the grid runs
#   through `python3 -m kaokore.learn baselines`, which imports nothing else (rich and
#   matplotlib are used when present, never needed; the figure is drawn with Pillow).
# - ../shared does not travel, and the working tree plus carried paths may be 64 MiB in all:
#   the version 1.0 faces (146 MiB as JPEGs) travel as ONE pack, gpu-pack/kaokore-v1.0.npz
#   (about 48 MiB: each face re-encoded once as JPEG quality 80 at 256 px, with its original
#   content key for the leak check). The pack is NOT in git: gpu-pack/ is ignored, and this
#   script makes it from ../shared when it is missing (tools/make_v10_split.py, then
#   `python -m kaokore.learn pack`). Name gpu-pack in the device call's `carry`.
#   `python tools/travel_size.py` checks tree + pack against the 64 MiB.
# - One command may run 600 s; this one stops itself at 540 s: the runs share BUDGET
#   (default 420 s), and a hard timeout leaves time to write what comes back.
# - At most 8 files come back: $OUT gets baselines.md (with the GPU named), baselines.csv,
#   baselines.png and logs.tar.gz (each run's config.json, history.csv, metrics.json and the
#   log). No checkpoint: runs live in $WORK, outside $OUT.
#
# The recipe is PRESET=official by default (the official repository's: Adam 1e-3, batch 32,
# 20 epochs, rate / 10 every 10 epochs, 256 px); it starts from scratch, since no ImageNet
# weights are on that machine, and the table says so. PRESET=scratch is ours (cosine, longer).
#
# DRY_RUN=1 runs the same path on the CPU in a few minutes (8 faces per split, 80 px, 1 epoch,
# one torch thread, ResNet-18 and MobileNet-v2; `ARCHS= ` (set and empty) for all seven):
#   DRY_RUN=1 OUT=/tmp/out PYTHON=/tmp/bare/bin/python3 bash bench/gpu_baselines.sh
# where /tmp/bare comes from `python tools/bare_python.py /tmp/bare` (torch, torchvision,
# numpy, Pillow and nothing else); tests/learn/test_gpu_scripts.py does exactly that.
#
# Device call: command `bash bench/gpu_baselines.sh`, carry ["gpu-pack"], timeout_s 590.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

PYTHON=${PYTHON:-python3}
DATA=${DATA:-${KAOKORE_SHARED:-../shared}/data/kaokore}
PACK=${PACK:-gpu-pack/kaokore-v1.0.npz}
OUT=${OUT:-bench-out/gpu-baselines}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/kaokore-grid.XXXXXX")}
PRESET=${PRESET:-official}
DRY_RUN=${DRY_RUN:-0}
DEADLINE=${DEADLINE:-540}  # seconds for the whole script
if [ "$DRY_RUN" = 1 ]; then
  DEVICE=${DEVICE:-cpu}; LIMIT=${LIMIT:-8}; IMAGE_SIZE=${IMAGE_SIZE:-80}; EPOCHS=${EPOCHS:-1}
  BATCH=${BATCH:-4}; BUDGET=${BUDGET:-240}; WORKERS=${WORKERS:-0}; THREADS=${THREADS:-1}
  ARCHS=${ARCHS-resnet18,mobilenet_v2}
else
  DEVICE=${DEVICE:-cuda}; LIMIT=${LIMIT:-}; IMAGE_SIZE=${IMAGE_SIZE:-}; EPOCHS=${EPOCHS:-}
  BATCH=${BATCH:-}; BUDGET=${BUDGET:-420}; WORKERS=${WORKERS:-8}; THREADS=${THREADS:-}
fi
ARCHS=${ARCHS:-}  # empty: all seven
TASKS=${TASKS:-}  # empty: gender and status
export PYTHONUNBUFFERED=1

mkdir -p "$OUT" "$WORK"
log="$WORK/grid.log"
if [ "$DEVICE" = cuda ]; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)
else
  gpu="none: dry run on the CPU ($(getconf _NPROCESSORS_ONLN) cores)"
fi
echo "GPU: $gpu" | tee "$log"

if [ ! -f "$PACK" ]; then  # on the CPU machine only: ../shared is not on the GPU machine
  echo "making $PACK from $DATA" | tee -a "$log"
  "$PYTHON" tools/make_v10_split.py "$WORK/v1.0-source" --data "$DATA" | tee -a "$log"
  "$PYTHON" -m kaokore.learn pack "$WORK/v1.0-source" "$PACK" --workers 2 | tee -a "$log"
fi
"$PYTHON" -m kaokore.learn unpack "$PACK" "$WORK/kaokore-v1.0" | tee -a "$log"

left=$(( DEADLINE - ($(date +%s) - started) - 30 ))
status=0
timeout --signal=INT --kill-after=10 "$left" "$PYTHON" -m kaokore.learn baselines \
  --release "$WORK/kaokore-v1.0" --preset "$PRESET" --device "$DEVICE" \
  --workers "$WORKERS" --time-budget "$BUDGET" --cache-dir "$WORK/cache" \
  ${EPOCHS:+--epochs "$EPOCHS"} ${BATCH:+--batch-size "$BATCH"} \
  ${IMAGE_SIZE:+--image-size "$IMAGE_SIZE"} ${LIMIT:+--limit "$LIMIT"} \
  ${ARCHS:+--archs "$ARCHS"} ${TASKS:+--tasks "$TASKS"} ${THREADS:+--threads "$THREADS"} \
  --out "$WORK/runs" 2>&1 | tee -a "$log" || status=$?
runs="$WORK/runs"
[ -f "$runs/baselines.md" ] || { echo "no run finished (exit $status)" >&2; exit 1; }

elapsed=$(( $(date +%s) - started ))
printf '\nGPU: %s. Wall time of the whole script: %d s (bench/gpu_baselines.sh, preset %s, budget %s s, exit %d%s).\n' \
  "$gpu" "$elapsed" "$PRESET" "$BUDGET" "$status" "$([ "$DRY_RUN" = 1 ] && echo ', DRY RUN')" \
  >> "$runs/baselines.md"
cp "$runs/baselines.md" "$runs/baselines.csv" "$runs/baselines.png" "$OUT/"
cp "$log" "$runs/grid.log"
(cd "$runs" && find . \( -name config.json -o -name history.csv -o -name metrics.json \
   -o -name grid.log \) | tar -czf "$OUT/logs.tar.gz" -T -)
cat "$OUT/baselines.md"
exit "$status"
