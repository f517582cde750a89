#!/usr/bin/env bash
# The GPU evidence in one command, for a machine with JAX and a GPU but no TensorFlow (the lent
# H200): chapters 3-7 under the `fast` profile, executed with papermill on Keras' JAX backend,
# then the augmentation/precision benchmark.
#
# Prepare here, once:  make device-prep      (wheels in .whl/, the data archive in data/)
# Run there:           BOOK_GIT_COMMIT=<commit> bash tools/device_run.sh [STEP ...]
#   steps: chapters (the four fast runs, cheapest first, then ch. 7), bench (augmentation and
#   precision, per network), seeds (seeds 1 and 2 of each network, no notebook), controls
#   (chapter 4's two controlled networks), compare (chapter 7 alone, after seeds/controls);
#   default: chapters bench.
# A session has 15 minutes of device time, the machine's start (a minute or more) included,
# and a new machine does not start with under 4 left: plan ONE call, run with timeout_s 600,
#     DEADLINE_S=570 bash tools/device_run.sh chapters bench
# and a second only on the still-warm machine, at once, with DEADLINE_S = what is left - 30.
# Before a call that adds to records made in an earlier one, unpack those here (below), or
# chapter 7 there will not see them.
#
# What comes back: the device tool returns at most 8 files from $OUT, with plain names, so
# everything is made in $STAGE and packed into $OUT/device-run.tgz after every chapter, run and
# benchmark network (a kill loses only the step in flight); beside it $OUT/progress.log, also
# printed. Here: mkdir /tmp/dr && tar xzf device-run.tgz -C /tmp/dr, then copy its notebooks/
# and results/ into the repository.
# Each step has its own time limit (CHAPTER_S, GOOGLENET_S, BENCH_S, RUN_S seconds) and the
# whole call a deadline (DEADLINE_S after the start): a step that would start after it is
# skipped, and says so. DEVICE_SMOKE=1 runs the same chain at smoke size (a CPU check here).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-out}
STAGE=${STAGE:-/tmp/device-stage}
mkdir -p "$OUT" "$STAGE/notebooks" "$STAGE/logs"
START=$(date +%s)
DEADLINE_S=${DEADLINE_S:-570}
log() {
  local line="[$(( $(date +%s) - START ))s] $*"
  echo "$line" >> "$OUT/progress.log"; echo "$line"
}
left() { echo $(( DEADLINE_S - ($(date +%s) - START) )); }
limit() { local l; l=$(left); echo $(( l < $1 ? l : $1 )); }  # a step's limit, within the deadline
pack() {  # the whole stage, atomically: a kill mid-pack leaves the last whole archive
  tar czf "$OUT/device-run.tgz.part" -C "$STAGE" . && mv "$OUT/device-run.tgz.part" "$OUT/device-run.tgz"
}

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
    --target /tmp/site .whl/*.whl >> "$STAGE/logs/install.log" 2>&1 \
    || { log "wheel install failed: $(tail -3 "$STAGE/logs/install.log")"; exit 2; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  export PATH=/tmp/site/bin:$PATH
  "$PY" -m ipykernel install --user --name python3 >> "$STAGE/logs/install.log" 2>&1
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
if [ -z "${CIFAR10_PATH:-}" ]; then
  for f in data/cifar10-jpeg.tar.gz ../shared/data/cifar10-jpeg.tar.gz; do
    [ -f "$f" ] && export CIFAR10_PATH=$(realpath "$f") && break
  done
fi
[ -n "${CIFAR10_PATH:-}" ] || { log "no data: put cifar10-jpeg.tar.gz in data/"; exit 2; }
# the copy there may have no .git: pass the commit (make device-prep prints the command)
export BOOK_GIT_COMMIT=${BOOK_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
# what runs this, in one interpreter start: the devices, Keras, its backend, and a GPU or none
seen=$("$PY" -c "import helpers, jax, keras; from helpers import devices; print(jax.devices(), 'keras', keras.__version__, 'on', keras.config.backend(), '(GPU)' if devices.gpu_available() else '(no GPU)')" 2>&1 | tail -1)
log "device run: $seen; commit $BOOK_GIT_COMMIT"

if [ "${DEVICE_SMOKE:-0}" = 1 ]; then
  PROFILE=smoke
  BENCH_ARGS=${BENCH_ARGS:-"--images 64 --epochs 2 --batch-size 32 --networks googlenet --ways arrays model:crop"}
else
  PROFILE=fast
  BENCH_ARGS=${BENCH_ARGS:-"--images 25000 --epochs 4 --batch-size 512"}
  # a GPU the backend cannot see would cost every step's start before failing: stop now
  [[ $seen == *"(GPU)" ]] || { log "no GPU visible to Keras on $KERAS_BACKEND: stopping before any step"; exit 2; }
fi
export BOOK_PROFILE=$PROFILE
mkdir -p "$STAGE/results/$PROFILE" "$STAGE/results/bench"

collect() {  # the records made so far into the stage, then the stage into $OUT
  cp results/$PROFILE/*.json "$STAGE/results/$PROFILE/" 2>/dev/null
  pack
}

run_guarded() {  # run_guarded NAME LIMIT_S COMMAND...: within the deadline, logged, collected
  local name=$1 lim=$2; shift 2
  if [ "$(left)" -lt 45 ]; then log "$name: skipped, $(left) s left before the deadline"; return; fi
  timeout -k 10 "$(limit "$lim")" "$@" >> "$STAGE/logs/$name.log" 2>&1
  log "$name: exit $? ($(grep -o 'test accuracy [0-9.]*[^;]*' "$STAGE/logs/$name.log" | tail -1))"
  collect
}

run_chapter() {  # run_chapter NOTEBOOK LIMIT_S
  run_guarded "$1" "$2" "$PY" -m papermill --cwd notebooks "notebooks/$1.ipynb" \
    "$STAGE/notebooks/$1.ipynb" -p ABLATIONS False --log-output
}

# the cheap networks first, so that a deadline costs the GoogLeNet (about 3x their time) alone.
# Expected at REFERENCE.md's float32 rates (mixed precision should be faster): 33 epochs of a
# VGG about 40 s of training, 50 of ResNet18 about 80 s, 50 of GoogLeNet about 215 s, each
# plus compiling (6-28 s), validation and the notebook's start: about 9 minutes in all
step_chapters() {
  for nb in 03_vgg16 04_vgg16_bigconv 06_resnet18; do run_chapter "$nb" "${CHAPTER_S:-180}"; done
  run_chapter 05_googlenet "${GOOGLENET_S:-360}"
  run_chapter 07_comparison 60
}

step_compare() { run_chapter 07_comparison 60; }

step_bench() {  # its record is rewritten after every network (bench.py)
  timeout -k 10 "$(limit "${BENCH_S:-300}")" "$PY" benchmarks/bench.py --only augmentation $BENCH_ARGS \
    --out "$STAGE/results/bench" > "$STAGE/logs/bench.log" 2>&1
  log "bench: exit $? ($(grep -c 'images/s' "$STAGE/logs/bench.log") networks timed)"
  pack
}

train_run() {  # train_run LOGNAME ARGS...: one run of tools/train_runs.py, collected at once
  local name=$1; shift
  run_guarded "$name" "${RUN_S:-200}" "$PY" tools/train_runs.py --profile "$PROFILE" "$@"
}

step_seeds() {  # seeds 1 and 2 of each network, one run at a time
  for seed in 1 2; do
    for net in vgg16 vgg16_bigconv resnet18 googlenet; do
      train_run "seed$seed-$net" --seeds "$seed" --networks "$net"
    done
  done
}

step_controls() {
  for arm in five_3x3 thirteen_big; do train_run "control-$arm" --controls "$arm"; done
}

for step in "${@:-chapters bench}"; do
  for s in $step; do
    if [ "$(left)" -lt 30 ]; then log "$s: skipped (deadline)"; continue; fi
    log "$s: start"; "step_$s"
  done
done
pack
log "done"
