#!/usr/bin/env bash
# The GPU evidence in one command, for a machine with JAX and a GPU but no TensorFlow (the lent
# H200): the augmentation/precision benchmark, then chapters 3-7 under the `fast` profile,
# executed with papermill on Keras' JAX backend. Everything it makes goes to $OUT.
#
# Prepare here, once:  make device-prep      (wheels in .whl/, the data archive in data/)
# Run there:           BOOK_GIT_COMMIT=<commit> bash tools/device_run.sh [STEP ...]
#   steps: bench (about 4 min on an H200), chapters (the four fast runs and ch. 7), seeds
#   (seeds 1 and 2 of each network, no notebook), controls (chapter 4's two controlled
#   networks), compare (chapter 7 alone: run it after seeds/controls); default: bench chapters.
#   With one session's 15 minutes of an H200, two calls (timeout_s 560 each):
#     DEADLINE_S=520 bash tools/device_run.sh bench chapters
#     DEADLINE_S=520 bash tools/device_run.sh seeds controls compare
# Each step has its own time limit (BENCH_S, CHAPTER_S, SEEDS_S seconds) and the whole run a
# deadline (DEADLINE_S after the start): a step that would start after it is skipped, and says
# so. Progress lines go straight into $OUT/progress.log (no pipe that could hold them back).
# DEVICE_SMOKE=1 runs the same chain at smoke size (a CPU check before spending device time).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT/notebooks" "$OUT/results"
START=$(date +%s)
DEADLINE_S=${DEADLINE_S:-530}
log() { echo "[$(( $(date +%s) - START ))s] $*" >> "$OUT/progress.log"; }
left() { echo $(( DEADLINE_S - ($(date +%s) - START) )); }
limit() { local l; l=$(left); echo $(( l < $1 ? l : $1 )); }  # a step's limit, within the deadline

STEPS="bench chapters seeds controls compare"
for s in ${@:-}; do  # a misspelt step must not cost a device start
  case " $STEPS " in *" $s "*) ;; *) log "unknown step '$s': use one of: $STEPS"; exit 2;; esac
done

export KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_PREALLOCATE=false
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
PY=${PYTHON:-python3}
if ! "$PY" -c "import keras, papermill" 2>/dev/null; then
  [ -d .whl ] || { log "no .whl/ folder: run 'make device-prep' before the device call"; exit 2; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl >> "$OUT/install.log" 2>&1 || { log "wheel install failed"; exit 2; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  export PATH=/tmp/site/bin:$PATH
  "$PY" -m ipykernel install --user --name python3 >> "$OUT/install.log" 2>&1
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
if [ -z "${CIFAR10_PATH:-}" ]; then
  for f in data/cifar10-jpeg.tar.gz ../shared/data/cifar10-jpeg.tar.gz; do
    [ -f "$f" ] && export CIFAR10_PATH=$(realpath "$f") && break
  done
fi
[ -n "${CIFAR10_PATH:-}" ] || { log "no data: put cifar10-jpeg.tar.gz in data/"; exit 2; }
export BOOK_GIT_COMMIT=${BOOK_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
"$PY" -c "import jax, keras; print('device run:', jax.devices(), 'keras', keras.__version__, 'on', keras.config.backend())" >> "$OUT/progress.log" 2>&1

if [ "${DEVICE_SMOKE:-0}" = 1 ]; then
  PROFILE=smoke; BENCH_ARGS="--images 64 --epochs 2 --batch-size 32 --networks googlenet --ways arrays model:crop"
else
  PROFILE=fast; BENCH_ARGS="--images 25000 --epochs 4 --batch-size 512"
fi
export BOOK_PROFILE=$PROFILE

# the records made so far, into $OUT (after every training step, so a later timeout loses none)
collect() {
  mkdir -p "$OUT/results/$PROFILE" && cp results/$PROFILE/*.json "$OUT/results/$PROFILE/" 2>/dev/null
}

step_bench() {
  timeout "$(limit "${BENCH_S:-300}")" "$PY" benchmarks/bench.py --only augmentation $BENCH_ARGS \
    --out "$OUT/results/bench" > "$OUT/bench.log" 2>&1
  log "bench: exit $? ($(tail -1 "$OUT/bench.log"))"
}

run_chapter() {
  local nb=$1
  if [ "$(left)" -lt 45 ]; then log "$nb: skipped, $(left) s left before the deadline"; return; fi
  timeout "$(limit "${CHAPTER_S:-240}")" "$PY" -m papermill --cwd notebooks "notebooks/$nb.ipynb" \
    "$OUT/notebooks/$nb.ipynb" -p ABLATIONS False --log-output > "$OUT/$nb.log" 2>&1
  log "$nb: exit $? ($(grep -o 'test accuracy [0-9.]*[^;]*' "$OUT/$nb.log" | tail -1))"
}

step_chapters() {
  for nb in 03_vgg16 04_vgg16_bigconv 05_googlenet 06_resnet18 07_comparison; do
    run_chapter "$nb"
  done
  collect
}

# chapter 7 alone: after seeds or controls, so that it pools the records they added
step_compare() { run_chapter 07_comparison; }

# extra seeds of the four networks, then chapter 4's controls (tools/train_runs.py)
step_seeds() {
  timeout "$(limit "${SEEDS_S:-400}")" "$PY" tools/train_runs.py \
    --profile "$PROFILE" --seeds 1 2 >> "$OUT/seeds.log" 2>&1
  log "seeds: exit $? ($(tail -1 "$OUT/seeds.log"))"
  collect
}

step_controls() {
  timeout "$(limit "${CONTROLS_S:-300}")" "$PY" tools/train_runs.py \
    --profile "$PROFILE" --controls >> "$OUT/controls.log" 2>&1
  log "controls: exit $? ($(tail -1 "$OUT/controls.log"))"
  collect
}

for step in "${@:-bench chapters}"; do
  for s in $step; do
    if [ "$(left)" -lt 30 ]; then log "$s: skipped (deadline)"; continue; fi
    log "$s: start"; "step_$s"
  done
done
log "done"
