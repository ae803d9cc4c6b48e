#!/usr/bin/env bash
# The KaoKore paper's Table 2 grid (7 architectures x gender/status) on one GPU in under
# 10 minutes, written as baselines.md/baselines.csv next to the paper's numbers.
#
# bf16 autocast and channels-last are on by default with --device cuda.
# How it fits: the version 1.0 split (5,298 faces) is assembled from ../shared with hard links;
# each split is decoded once into a uint8 cache and preloaded on the GPU, so no epoch decodes
# a JPEG; augmentation runs on the GPU as batched tensor ops; the networks train channels-last
# under bf16 autocast; and `--time-budget` shares the budget between the 14 runs (each stops
# before an epoch that would overrun its share, restores its best dev epoch and scores test).
#
# Usage (from anywhere; every setting has an environment override):
#   bench/gpu_baselines.sh
#   BUDGET=480 EPOCHS=40 BATCH=256 bench/gpu_baselines.sh
# Outputs: $RUNS/baselines.{md,csv} and one run folder per cell; when $OUT is set (the device
# machine's return folder) the two tables and a tarball of every run's small files go there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
DATA=${DATA:-${KAOKORE_SHARED:-../shared}/data/kaokore}
RELEASE=${RELEASE:-kaokore-data/kaokore-v1.0}
RUNS=${RUNS:-kaokore-data/runs/gpu-baselines-$(date +%Y%m%d-%H%M%S)}
BUDGET=${BUDGET:-480}      # seconds for the 14 runs; start-up, caches and tables fit in the rest
EPOCHS=${EPOCHS:-40}       # an upper bound: early stopping (PATIENCE) and the budget end runs
PATIENCE=${PATIENCE:-6}
BATCH=${BATCH:-128}
LR=${LR:-3e-4}
WORKERS=${WORKERS:-8}      # JPEG decoding processes for the one-time cache build
IMAGE_SIZE=${IMAGE_SIZE:-} # empty: the paper's inputs (256 px; 299 px for Inception-v3)
ARCHS=${ARCHS:-}           # empty: all seven; e.g. ARCHS=resnet18,vgg11
TASKS=${TASKS:-}           # empty: gender and status
LIMIT=${LIMIT:-}           # e.g. LIMIT=64 with DEVICE=cpu for a smoke run of this script
DEVICE=${DEVICE:-cuda}

started=$(date +%s)
if [ "$DEVICE" = cuda ]; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)
  "$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'"
else
  gpu="none ($DEVICE)"
fi
echo "GPU: $gpu"

if [ ! -f "$RELEASE/labels.csv" ]; then
  "$PYTHON" tools/make_v10_split.py "$RELEASE" --data "$DATA"
fi

# `timeout` is a last resort: tables are rewritten after every run, so a cut grid keeps its rows.
status=0
timeout --signal=INT 570 "$PYTHON" -m kaokore train baselines \
  --release "$RELEASE" --device "$DEVICE" \
  --epochs "$EPOCHS" --patience "$PATIENCE" --batch-size "$BATCH" --lr "$LR" \
  --workers "$WORKERS" --time-budget "$BUDGET" --no-progress \
  ${IMAGE_SIZE:+--image-size "$IMAGE_SIZE"} ${ARCHS:+--archs "$ARCHS"} ${TASKS:+--tasks "$TASKS"} \
  ${LIMIT:+--limit "$LIMIT"} \
  --out "$RUNS" || status=$?
[ -f "$RUNS/baselines.md" ] || { echo "no run finished (exit $status)" >&2; exit 1; }

elapsed=$(( $(date +%s) - started ))
printf '\nGPU: %s. Wall time of the whole script: %d s (bench/gpu_baselines.sh, budget %s s, exit %d).\n' \
  "$gpu" "$elapsed" "$BUDGET" "$status" >> "$RUNS/baselines.md"
cat "$RUNS/baselines.md"

if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
  cp "$RUNS/baselines.md" "$RUNS/baselines.csv" "$OUT/"
  (cd "$RUNS" && find . -name config.json -o -name history.csv -o -name metrics.json \
     | tar -czf "$OUT/runs.tar.gz" -T -)
fi
exit "$status"
