#!/usr/bin/env bash
# The generative runs at full size on the GPU machine this project is lent at times, as it is,
# within 540 s:
#
#   1. the StyleGAN-style generator at 128 px for GAN_SECONDS (default 200) of training, then
#      the Frechet distance ("fd") of G_ema against the real training faces;
#   2. the uncurated 8 x 8 grid at truncation 0.7 and 1.0;
#   3. the optimisation painter: 8 test faces at 128 px, 512 strokes in 5 stages;
#   4. the learned painter at 128 px (renderer, actor, then the same 8 faces).
#
# It fits that machine the way bench/gpu_baselines.sh does (read its header): every step runs
# `python3 -m kaokore.learn ...` (torch, torchvision, numpy and Pillow only); the faces come
# from the carried pack gpu-pack/kaokore-v1.0.npz (not in git; made from ../shared when
# missing), unpacked into $WORK; each step's timeout is cut to what is left of DEADLINE.
# At most 8 files come back, no checkpoint: $OUT gets summary.txt, gan_psi0.7.png,
# gan_psi1.0.png, optimize_finals.png, agent_finals.png, one optimisation and one agent GIF,
# and logs.tar.gz (the runs' JSON files and the log).
#
# DRY_RUN=1 runs the same path on the CPU in a few minutes (32 px, a few steps, 2 faces):
#   DRY_RUN=1 OUT=/tmp/out PYTHON=/tmp/bare/bin/python3 bash bench/gpu_generative.sh
#
# Device call: command `bash bench/gpu_generative.sh`, carry ["gpu-pack"], timeout_s 590.
# When it has run on a GPU, put summary.txt and the figures in docs/results.md, naming the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

PYTHON=${PYTHON:-python3}
DATA=${DATA:-${KAOKORE_SHARED:-../shared}/data/kaokore}
PACK=${PACK:-gpu-pack/kaokore-v1.0.npz}
OUT=${OUT:-bench-out/gpu-generative}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/kaokore-gen.XXXXXX")}
DRY_RUN=${DRY_RUN:-0}
DEADLINE=${DEADLINE:-540}
if [ "$DRY_RUN" = 1 ]; then
  DEVICE=cpu; RES=32; CHANNELS=32; GAN_SECONDS=${GAN_SECONDS:-20}; GAN_BATCH=8; FD_SAMPLES=16
  MAX_IMAGES="--max-images 64"; SAMPLES=16; SIZE=32; STROKES=16; STAGES=2; OPT_STEPS=5
  GRID=4; EPISODE=2; AGENT_BATCH=4; RENDERER_STEPS=10; AGENT_STEPS=5; FACES_N=2
  export OMP_NUM_THREADS=1
else
  DEVICE=cuda; RES=128; CHANNELS=512; GAN_SECONDS=${GAN_SECONDS:-200}; GAN_BATCH=32
  FD_SAMPLES=2000; MAX_IMAGES=""; SAMPLES=64; SIZE=128; STROKES=512; STAGES=5; OPT_STEPS=100
  GRID=8; EPISODE=8; AGENT_BATCH=32; RENDERER_STEPS=2000; AGENT_STEPS=2000; FACES_N=8
fi
export PYTHONUNBUFFERED=1
LEARN=("$PYTHON" -m kaokore.learn)

mkdir -p "$OUT" "$WORK"
log="$WORK/generative.log"
summary="$OUT/summary.txt"
if [ "$DEVICE" = cuda ]; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)
else
  gpu="none: dry run on the CPU ($(getconf _NPROCESSORS_ONLN) cores)"
fi
echo "GPU: $gpu" | tee "$summary" "$log"
step() { echo "== $1 ($(( $(date +%s) - started )) s)" | tee -a "$summary" "$log"; }
# Seconds a step may take: its cap, or what is left of DEADLINE less 30 s for the outputs.
left() {
  local rest=$(( DEADLINE - ($(date +%s) - started) - 30 ))
  [ "$rest" -lt "$1" ] && echo $(( rest > 1 ? rest : 1 )) || echo "$1"
}

if [ ! -f "$PACK" ]; then  # on the CPU machine only: ../shared is not on the GPU machine
  "$PYTHON" tools/make_v10_split.py "$WORK/v1.0-source" --data "$DATA" | tee -a "$log"
  "${LEARN[@]}" pack "$WORK/v1.0-source" "$PACK" --workers 2 | tee -a "$log"
fi
REL="$WORK/kaokore-v1.0"
"${LEARN[@]}" unpack "$PACK" "$REL" | tee -a "$log"
# The first FACES_N test faces of labels.csv: the faces to paint.
mapfile -t IMAGES < <(awk -F, -v n="$FACES_N" -v d="$REL/images_256/" \
  '{ sub(/\r$/, "") } NR > 1 && $4 == "test" && c < n { print d $1; c++ }' "$REL/labels.csv")
[ "${#IMAGES[@]}" -gt 0 ] || { echo "no test faces in $REL/labels.csv" >&2; exit 1; }

status=0
step "GAN ${RES} px, ${GAN_SECONDS} s of training"
timeout --signal=INT --kill-after=10 "$(left $(( GAN_SECONDS + 90 )))" "${LEARN[@]}" gan-train --release "$REL" \
  --res "$RES" --channels "$CHANNELS" --batch-size "$GAN_BATCH" --steps 1000000 $MAX_IMAGES \
  --time-budget "$GAN_SECONDS" --log-every 100 --fid-every 1000000 --fid-samples "$FD_SAMPLES" \
  --snapshot-every 100000 --checkpoint-every 100000 --device "$DEVICE" --out "$WORK/gan" \
  2>&1 | tee -a "$log" || status=$?
tail -1 "$log" >> "$summary"

step "samples"
for psi in 0.7 1.0; do
  timeout --kill-after=10 "$(left 60)" "${LEARN[@]}" gan-sample --checkpoint "$WORK/gan/checkpoint.pt" \
    --n "$SAMPLES" --truncation "$psi" --device "$DEVICE" --out "$WORK/samples-$psi" \
    2>&1 | tee -a "$log" || status=$?
  cp "$WORK/samples-$psi/grid.png" "$OUT/gan_psi$psi.png" || status=1
done

step "optimisation painter, ${SIZE} px, ${STROKES} strokes"
timeout --signal=INT --kill-after=10 "$(left 100)" "${LEARN[@]}" paint-optimize "${IMAGES[@]}" \
  --strokes "$STROKES" --stages "$STAGES" --steps "$OPT_STEPS" --size "$SIZE" \
  --every $(( STROKES / 8 )) --device "$DEVICE" --out "$WORK/optimize" \
  2>&1 | tee -a "$log" || status=$?
tail -1 "$log" >> "$summary"

step "learned painter, ${SIZE} px: renderer, actor, then the same faces"
timeout --signal=INT --kill-after=10 "$(left 150)" "${LEARN[@]}" paint-agent --release "$REL" --size "$SIZE" \
  --grid "$GRID" --episode-steps "$EPISODE" --batch-size "$AGENT_BATCH" \
  --renderer-steps "$RENDERER_STEPS" --steps "$AGENT_STEPS" $MAX_IMAGES --device "$DEVICE" \
  --out "$WORK/agent" 2>&1 | tee -a "$log" || status=$?
tail -1 "$log" >> "$summary"
timeout --kill-after=10 "$(left 40)" "${LEARN[@]}" paint-run "${IMAGES[@]}" --actor "$WORK/agent/actor.pt" \
  --every $(( GRID * GRID * EPISODE / 8 )) --device "$DEVICE" --out "$WORK/agent-run" \
  2>&1 | tee -a "$log" || status=$?
tail -1 "$log" >> "$summary"

step "done (exit $status)"
first=$(basename "${IMAGES[0]}" .jpg)
cp "$WORK/optimize/optimize_finals.png" "$WORK/agent-run/agent_finals.png" "$OUT/" || status=1
cp "$WORK/optimize/optimize_$first.gif" "$WORK/agent-run/agent_$first.gif" "$OUT/" || status=1
(cd "$WORK" && find . -maxdepth 2 \( -name '*.json' -o -name generative.log \) \
   -not -path './kaokore-v1.0/*' | tar -czf "$OUT/logs.tar.gz" -T -)
exit "$status"
