#!/usr/bin/env bash
# The generative runs at full size on one GPU, in under 10 minutes of wall time.
#
#   1. kaokore train gan at 128 px for a fixed time budget (GAN_SECONDS, default 300 s of
#      training), then the Frechet distance of G_ema against the real training faces;
#      the log reports images/s every 100 steps.
#   2. kaokore sample: the uncurated 8 x 8 grid at truncation 0.7 and 1.0.
#   3. kaokore paint optimize: 8 test faces at 128 px, 512 strokes in 5 stages.
#   4. kaokore paint agent + paint run: the learned painter at 128 px (8 x 8 grid of strokes per
#      step, 8 steps = 512 strokes), on the same 8 faces.
#
# Everything goes to $OUT (default bench-out/gpu-generative): the run folders, figures/ with
# the PNG/GIF figures, and summary.txt with the GPU, images/s, the Frechet distance and the
# painters' errors. When it has run on a GPU, copy figures/ to docs/figures/gpu/ and add the
# summary to docs/results.md, "Generative runs", naming the GPU.
#
# Usage: bash bench/gpu_generative.sh            (from the repository root)
#        REL=path/to/release OUT=dir GAN_SECONDS=300 PYTHON=python bash bench/gpu_generative.sh
set -euo pipefail

PYTHON=${PYTHON:-python}
OUT=${OUT:-bench-out/gpu-generative}
REL=${REL:-kaokore-data/kaokore-v1.2-official}
SHARED=${SHARED:-../shared/data/kaokore}
GAN_SECONDS=${GAN_SECONDS:-300}
FACES="00001636 00003180 00008609 00003816 00006622 00005549 00002106 00004862"
KAOKORE=("$PYTHON" -m kaokore)
export COLUMNS=250  # one line per message, so that `tail -1` gets the whole summary
START=$SECONDS

mkdir -p "$OUT/figures"
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
echo "GPU: $GPU" | tee "$OUT/summary.txt"

# The release: the official version 1.2 layout (images_256/ + labels.csv) from ../shared when
# no release folder is there yet (`kaokore build` output works the same).
if [ ! -f "$REL/labels.csv" ]; then
  mkdir -p "$REL"
  ln -sfn "$(cd "$SHARED/images_256" && pwd)" "$REL/images_256"
  cp "$SHARED/official/v1.2/labels.csv" "$REL/labels.csv"
fi
IMAGES=()
for face in $FACES; do IMAGES+=("$REL/images_256/$face.jpg"); done

step() { echo "== $1 ($((SECONDS - START)) s)" | tee -a "$OUT/summary.txt"; }

step "GAN 128 px, ${GAN_SECONDS} s of training"
rm -rf "$OUT/gan128"
timeout 420 "${KAOKORE[@]}" train gan --release "$REL" --res 128 --channels 512 \
  --batch-size 32 --steps 1000000 --time-budget "$GAN_SECONDS" --log-every 100 \
  --fid-every 1000000 --fid-samples 2000 --snapshot-every 2000 --checkpoint-every 2000 \
  --device cuda --out "$OUT/gan128" | tee "$OUT/gan128.log"
tail -1 "$OUT/gan128.log" | tee -a "$OUT/summary.txt"

step "samples"
for psi in 0.7 1.0; do
  "${KAOKORE[@]}" sample --checkpoint "$OUT/gan128/checkpoint.pt" --n 64 --truncation "$psi" \
    --device cuda --out "$OUT/samples-$psi" | tail -1
  cp "$OUT/samples-$psi/grid.png" "$OUT/figures/gan128_uncurated_psi$psi.png"
done

step "optimisation painter, 128 px, 512 strokes"
timeout 150 "${KAOKORE[@]}" paint optimize "${IMAGES[@]}" --strokes 512 --stages 5 --steps 100 \
  --size 128 --every 64 --device cuda --out "$OUT/optimize" | tail -1 | tee -a "$OUT/summary.txt"

step "learned painter, 128 px: renderer, actor, then the same faces"
timeout 180 "${KAOKORE[@]}" paint agent --release "$REL" --size 128 --grid 8 --episode-steps 8 \
  --batch-size 32 --renderer-steps 3000 --steps 3000 --device cuda --out "$OUT/agent" \
  | tail -1 | tee -a "$OUT/summary.txt"
"${KAOKORE[@]}" paint run "${IMAGES[@]}" --actor "$OUT/agent/actor.pt" --every 64 \
  --device cuda --out "$OUT/agent-run" | tail -1 | tee -a "$OUT/summary.txt"

cp "$OUT"/optimize/optimize_finals.png "$OUT"/agent-run/agent_finals.png "$OUT/figures/"
for face in 00001636 00008609; do
  cp "$OUT/optimize/optimize_$face.png" "$OUT/optimize/optimize_$face.gif" "$OUT/figures/"
  cp "$OUT/agent-run/agent_$face.png" "$OUT/agent-run/agent_$face.gif" "$OUT/figures/"
done
step "done"
