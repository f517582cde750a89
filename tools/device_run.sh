#!/usr/bin/env bash
# The GPU evidence in one command, for a machine with JAX and a GPU but no TensorFlow (the lent
# H200): chapters 3-6 under the `fast` profile, executed with papermill on Keras' JAX backend,
# then the augmentation/precision benchmark; chapter 7, which only reads the records, is run
# here afterwards (make compare PROFILE=fast).
#
# Prepare here, once:  make device-prep      (wheels in .whl/, the data archive in data/)
# Run there:           BOOK_GIT_COMMIT=<commit> bash tools/device_run.sh [STEP ...]
#   steps: chapters (the network chapters under `fast`, cheapest first; CHAPTERS names some,
#   and a chapter already finished in $STAGE is not run again), bench (augmentation and
#   precision, per network), pipeline (augmentation in the input pipeline against in the
#   model, ResNet18, into results/bench/pipeline-gpu.json), seeds (seeds 1 and 2 of each
#   network, no notebook, but for those recorded already; SEED_RUNS="1:googlenet 2:googlenet"
#   names the runs), trials (the runs TRIALS names, each a network and the recipe settings it
#   changes, e.g. TRIALS="vgg16:learning_rate=0.1 resnet18:learning_rate=0.1,warmup_epochs=5":
#   records to results/trials/fast/), controls (chapter 4's two controlled networks, but those
#   recorded), compare (chapter 7; it only reads records, so it is better run here, after
#   unpacking: make compare PROFILE=fast); default: chapters bench.
# A session has 15 minutes of device time, the machine's start (a minute or more) included,
# and a new machine does not start with under 4 left: plan ONE call, run with timeout_s 600,
# the command `make device-prep` prints (its steps and the Makefile's NEXT_SEEDS/NEXT_TRIALS:
# the chapters and the bench are recorded already, and would do nothing),
# and a second only on the still-warm machine, sent at once (it is given back after
# idle_release_s, 30 s, of idleness: no `status` call, no reading in between), with the same
# command string (BOOK_GIT_COMMIT included: a fresh `make device-prep` after an edit would name
# another version of the code) and only DEADLINE_S changed, to the first call's
# lease.budget_left_s - 75 (the upload of the tree and carried folders, the kill's grace, the
# last pack and the transfer come on top of the deadline); under 100, send none. Keep the
# first call's $OUT files before the second (they are replaced).
# A chapter whose network has a record in results/fast (committed from an earlier session) is
# not run again unless CHAPTERS names it; the bench times only the networks missing from
# results/bench/augmentation-gpu.json and adds them to it. A seed or trial run that finished
# in an earlier call on the same machine (or is named twice) is not run again ($STAGE/finished),
# nor a seed that RECORDED_IN holds, even where SEED_RUNS names it, nor a trial a GPU made into
# TRIALS_RECORDED_IN (results/trials/fast; a CPU's of that name does not count): to run one
# again, as a trial of a changed recipe, set TRIALS_RECORDED_IN= (empty).
# Before a `compare` step there that adds to records made in an earlier call, unpack those
# here (below), or chapter 7 will not see them.
#
# What comes back: the device tool returns at most 8 files from $OUT, with plain names, so
# everything is made in $STAGE and packed into $OUT/device-run.tgz after every chapter, run and
# benchmark network (a kill loses only the step in flight); beside it $OUT/progress.log, also
# printed. Here: rm -rf /tmp/dr && mkdir /tmp/dr && tar xzf device-run.tgz -C /tmp/dr, then
# copy its notebooks/ and the records of its results/ that the repository lacks or holds
# otherwise (`diff -rq /tmp/dr/results results` names them; the stage also holds copies of the
# committed ones) into the repository, its logs/ (but install.log and kernel.log, unless new)
# into results/device-logs/, and each call's $OUT/progress.log as progress-callN.log (the
# archive's progress.log holds every call's lines together) with a dated line in its
# README (a chapter that failed or was cut short comes back in failed/, to read, not to
# commit; the stage's progress.log holds every call's lines), then, where the pipeline record
# came back, chapter 2 again (it glues results/bench/pipeline-gpu.json; re-read its sentence
# on where to augment, and augment.BEST_PLACE's comment, against it):
#   make chapters CHAPTERS=02_cifar10_data PROFILE=cpu
# and last: make compare PROFILE=fast. `diff -rq /tmp/dr/results results | grep -v '^Only in
# results'` lists what came back. The call exits 1 if a step failed (progress.log names it),
# 2 if it could not start.
# Each step has its own time limit (CHAPTER_S, GOOGLENET_S, BENCH_S, PIPELINE_S, RUN_S
# seconds) and the whole call a deadline (DEADLINE_S after the start): a step that would start
# after it, or with less time left than it needs to finish (GoogLeNet's chapter:
# GOOGLENET_MIN_S), is skipped, and says so. DEVICE_SMOKE=1 runs the same chain at smoke size (a CPU check here).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-out}
STAGE=${STAGE:-/tmp/device-stage}
mkdir -p "$OUT" "$STAGE/notebooks" "$STAGE/failed" "$STAGE/logs"
START=$(date +%s)
touch "$STAGE/started"  # what collect() counts as made by this call
DEADLINE_S=${DEADLINE_S:-570}
log() {  # also into the stage, so that the archive keeps every call's lines ($OUT starts empty)
  local line="[$(( $(date +%s) - START ))s] $*"
  echo "$line" >> "$OUT/progress.log"; echo "$line" >> "$STAGE/progress.log"; echo "$line"
}
left() { echo $(( DEADLINE_S - ($(date +%s) - START) )); }
limit() { local l; l=$(left); echo $(( l < $1 ? l : $1 )); }  # a step's limit, within the deadline
pack() {  # the whole stage, atomically: a kill mid-pack leaves the last whole archive
  tar czf "$OUT/device-run.tgz.part" -C "$STAGE" . && mv "$OUT/device-run.tgz.part" "$OUT/device-run.tgz"
}

STEPS="bench pipeline chapters seeds trials controls compare"
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
# (stdout only: a warning on stderr must not hide the answer; it goes to the install log)
# and what every record's provenance is built from (devices.environment, run after training):
# a failure there would lose each run's record after its training, so it stops the call first
seen=$("$PY" -c "import helpers, jax, keras; from helpers import devices; env = devices.environment(); print(jax.devices(), 'keras', keras.__version__, 'on', keras.config.backend(), '(GPU)' if devices.gpu_available() else '(no GPU)', env['precision'], 'products', env.get('float32_products'))" 2>> "$STAGE/logs/install.log" | tail -1)
if [ -z "$seen" ]; then
  log "device run: no answer from Python (helpers, Keras, JAX or the records' environment): $(tail -2 "$STAGE/logs/install.log" | tr '\n' ' ')"
  exit 2
fi
log "device run: $seen; commit $BOOK_GIT_COMMIT"

# the four networks, cheapest first on an H200 (GoogLeNet's first epoch compiles longest), the
# order of the bench and of the seed runs
CHEAPEST_FIRST="vgg16 vgg16_bigconv resnet18 googlenet"
BENCH_ARGS_SET=${BENCH_ARGS:+yes} EARLIER_BENCH_SET=${EARLIER_BENCH+yes}
if [ "${DEVICE_SMOKE:-0}" = 1 ]; then
  PROFILE=smoke
  RECORDED_IN=${RECORDED_IN:-} TRIALS_RECORDED_IN=${TRIALS_RECORDED_IN:-}
  EARLIER_BENCH=${EARLIER_BENCH:-}
  # whole batches (60 images: 6 a class), so that no way compiles a second, smaller one
  BENCH_SIZE="--images 60 --epochs 2 --batch-size 30 --ways arrays model:crop"
  BENCH_ARGS=${BENCH_ARGS:-"$BENCH_SIZE --networks googlenet"}
  PIPELINE_ARGS=${PIPELINE_ARGS:-"--images 60 --epochs 2 --batch-size 30 --networks resnet18"}
  PIPELINE_RECORD=${PIPELINE_RECORD:-}
else
  PROFILE=fast
  # the decoded arrays, shared by every chapter and the bench (~/.cache may not be writable)
  export CIFAR10_CACHE_DIR=${CIFAR10_CACHE_DIR:-/tmp/cnn-cifar10-cache}
  # 25,600 images: whole batches of 512, so no second compile for a last, smaller batch; the
  # networks cheapest first on an H200 (../shared/REFERENCE.md: 42,600, 41,400, 31,000 and
  # 11,700 images/s), so that the limit costs GoogLeNet alone
  RECORDED_IN=${RECORDED_IN-results/fast} TRIALS_RECORDED_IN=${TRIALS_RECORDED_IN-results/trials/fast}
  EARLIER_BENCH=${EARLIER_BENCH-results/bench/augmentation-gpu.json}
  BENCH_SIZE="--images 25600 --epochs 4 --batch-size 512"
  BENCH_ARGS=${BENCH_ARGS:-"$BENCH_SIZE --networks $CHEAPEST_FIRST"}
  # ResNet18 alone: through the pipeline it trained at about 2,260 images/s on the H200 (issue
  # 10), some 45 s for these four epochs
  PIPELINE_ARGS=${PIPELINE_ARGS:-"$BENCH_SIZE --networks resnet18"}
  PIPELINE_RECORD=${PIPELINE_RECORD-results/bench/pipeline-gpu.json}
  # a GPU the backend cannot see would cost every step's start before failing: stop now
  # (a word in the line, not its end: more provenance follows it)
  [[ $seen == *"(GPU)"* ]] || { log "no GPU visible to Keras on $KERAS_BACKEND: stopping before any step"; exit 2; }
fi
export BOOK_PROFILE=$PROFILE
mkdir -p "$STAGE/results/$PROFILE" "$STAGE/results/bench"

# What an earlier session brought back (committed to results/) is not run again unless named:
# by default only the chapters whose network has no record in RECORDED_IN (results/fast for
# the real run; none at smoke size), and the bench only for the networks the GPU record lacks,
# added to that record (bench.py --merge-with) instead of replacing it
declare -A NETWORK_OF=([03_vgg16]=vgg16 [04_vgg16_bigconv]=vgg16_bigconv [05_googlenet]=googlenet
                       [06_resnet18]=resnet18)
is_network() { [ -n "$1" ] && [[ " $CHEAPEST_FIRST " == *" $1 "* ]]; }  # one a run may name
# A chapter counts as recorded when its network's record is there AND the committed notebook
# ran under this profile: a record is written before a chapter's last cells, which can fail.
ran_under() { grep -q "\"profile: $2, " "notebooks/$1.ipynb" 2>/dev/null; }
if [ -z "${CHAPTERS:-}" ]; then
  CHAPTERS="" recorded=""
  for nb in 03_vgg16 04_vgg16_bigconv 06_resnet18 05_googlenet; do
    if [ -n "$RECORDED_IN" ] && [ -f "$RECORDED_IN/${NETWORK_OF[$nb]}.json" ] \
        && ran_under "$nb" "$PROFILE"; then
      recorded="$recorded $nb"
    else CHAPTERS="$CHAPTERS $nb"; fi
  done
  [ -z "$recorded" ] || log "chapters recorded in an earlier session, not run again (CHAPTERS=... names them):$recorded"
fi
# on a warm machine, the record an earlier call of this session extended is the one to add to
if [ -z "$EARLIER_BENCH_SET" ] && [ -f "$STAGE/results/bench/augmentation-gpu.json" ]; then
  EARLIER_BENCH=$STAGE/results/bench/augmentation-gpu.json
fi
if [ -z "$BENCH_ARGS_SET" ] && [ -n "$EARLIER_BENCH" ] && [ -f "$EARLIER_BENCH" ]; then
  if missing=$("$PY" -c "import json, sys; done = json.load(open(sys.argv[1]))['networks']; print(' '.join(n for n in sys.argv[2:] if n not in done))" \
      "$EARLIER_BENCH" $CHEAPEST_FIRST 2>> "$STAGE/logs/install.log"); then
    BENCH_ARGS=${missing:+"$BENCH_SIZE --networks $missing --merge-with $EARLIER_BENCH"}
    [ -n "$BENCH_ARGS" ] || log "bench: every network is in $EARLIER_BENCH already (BENCH_ARGS=... times them again)"
  else
    log "bench: $EARLIER_BENCH unreadable, so every network is timed afresh (see logs/install.log)"
  fi
fi

collect() {  # the records made so far into the stage, then the stage into $OUT
  cp results/$PROFILE/*.json "$STAGE/results/$PROFILE/" 2>/dev/null
  # trials made by this call, moved (a smoke check here leaves the repository's folder as it
  # was); one whose name the stage holds already stays, and says so
  mkdir -p "$STAGE/results/trials/fast"
  local trial
  while IFS= read -r trial; do
    if [ -e "$STAGE/results/trials/fast/${trial##*/}" ]; then
      log "trial record ${trial##*/}: the stage has one of that name; left in results/trials/fast"
    else mv "$trial" "$STAGE/results/trials/fast/"; fi
  done < <(find results/trials/fast -name '*.json' -newer "$STAGE/started" 2>/dev/null)
  pack
}

RC=0 FAILED=""
# run_guarded NAME LIMIT_S MIN_S COMMAND...: within the deadline, logged, collected; its log line
# ends with the run's last test accuracy, or how many networks the bench timed
run_guarded() {
  local name=$1 lim=$2 min=$3; shift 3
  RC=124
  if [ "$(left)" -lt "$min" ]; then
    log "$name: skipped, $(left) s left before the deadline (it needs $min)"; return
  fi
  log "$name: start (limit $(limit "$lim") s, $(left) s left)"
  # the log of a step run again on a warm machine keeps the earlier call's lines: read only this run's
  local before step_start; before=$(cat "$STAGE/logs/$name.log" 2>/dev/null | wc -l)
  step_start=$(date +%s)
  timeout -k 10 "$(limit "$lim")" "$@" >> "$STAGE/logs/$name.log" 2>&1
  RC=$?
  # what finished, and in how many seconds (what the next run of its kind needs)
  if [ "$RC" = 0 ]; then echo "$name $(( $(date +%s) - step_start ))" >> "$STAGE/finished"
  else FAILED="$FAILED $name"; fi
  local summary this_run
  this_run=$(tail -n +"$((before + 1))" "$STAGE/logs/$name.log")
  summary=$(grep -o 'test accuracy [0-9.]*[^;]*' <<< "$this_run" | tail -1)
  [ -n "$summary" ] || summary="$(grep -c 'images/s' <<< "$this_run") networks timed"
  log "$name: exit $RC ($summary)"
  collect
}

run_chapter() {  # run_chapter NOTEBOOK LIMIT_S MIN_S [PAPERMILL ARGS...]
  # written beside its source, as `make reproduce` does: the path papermill stores in the
  # notebook is then the repository's, not this machine's
  local nb=$1 lim=$2 min=$3 run="notebooks/.$1.run.ipynb"; shift 3
  if [ -f "$STAGE/notebooks/$nb.ipynb" ]; then log "$nb: finished in an earlier call"; return; fi
  rm -f "$run"  # a killed earlier call's, on a warm machine
  run_guarded "$nb" "$lim" "$min" "$PY" -m papermill --cwd notebooks "notebooks/$nb.ipynb" \
    "$run" --log-output "$@"
  if [ -f "$run" ]; then  # a failed or cut-short chapter must not pass for a finished one
    # papermill's cell of injected parameters would override the chapter's own for every later
    # reader and run; the notebook's metadata keeps what was passed (metadata.papermill)
    "$PY" -c "import sys, nbformat as n; nb = n.read(sys.argv[1], 4); nb.cells = [c for c in nb.cells if 'injected-parameters' not in c.metadata.get('tags', [])]; n.write(nb, sys.argv[1])" "$run" \
      || log "$nb: papermill's parameters cell could not be taken out"
    if [ "$RC" = 0 ]; then mv "$run" "$STAGE/notebooks/$nb.ipynb"; rm -f "$STAGE/failed/$nb.ipynb"
    else mv "$run" "$STAGE/failed/$nb.ipynb"; fi
    pack
  fi
}

kernel_starts() {  # a one-cell notebook through papermill: seconds, against minutes per chapter
  { "$PY" -c "import sys, nbformat as n; n.write(n.v4.new_notebook(cells=[n.v4.new_code_cell('1 + 1')]), sys.argv[1])" \
      "$STAGE/probe.ipynb" \
    && timeout "$(limit 90)" "$PY" -m papermill -k python3 "$STAGE/probe.ipynb" "$STAGE/probe.out.ipynb"
  } >> "$STAGE/logs/kernel.log" 2>&1
}

# the cheap networks first; GoogLeNet (about twice their time) last, and only with the time to
# finish. Measured on the H200 (2026-11-29, mixed bfloat16; results/device-logs): VGG16's
# chapter 182 s (a first epoch of 64 s, compiling and the then-eager BN re-estimate, then
# 1.2 s an epoch), VGG16-big's 114 s, ResNet18's 162 s; GoogLeNet's 362 s (62 s of cells
# before training, a first epoch of 196 s, compiling in mixed precision, then 2-3 s an
# epoch). Since then, on JAX, training leaves out each epoch's smaller last batch, which
# had compiled the training step a second time (pipelines.AugmentedArrays): on the H200
# (2026-11-30, seeds and trials, no notebook) first epochs fell to 24-27 s (VGG16), 16-18 s
# (VGG16-big) and 24-27 s (ResNet18), the training step compiled once (17.6-18.0 s in the
# logs); GoogLeNet's in mixed precision not yet measured so (its float32 trial's: 38 s).
# GoogLeNet's chapter starts only with GOOGLENET_MIN_S left: cut short, it would leave nothing.
step_chapters() {
  if [ -z "${CHAPTERS// }" ]; then log "chapters: none to run"; return; fi
  if ! kernel_starts; then
    log "chapters: skipped, a notebook kernel does not start ($(tail -2 "$STAGE/logs/kernel.log" | tr '\n' ' '))"
    return
  fi
  for nb in $CHAPTERS; do
    case $nb in
      # only chapters 5 and 6 have the parameter: elsewhere papermill would add an unused cell
      05_googlenet) run_chapter "$nb" "${GOOGLENET_S:-420}" "${GOOGLENET_MIN_S:-360}" -p ABLATIONS False;;
      06_resnet18) run_chapter "$nb" "${CHAPTER_S:-180}" 60 -p ABLATIONS False;;
      *) run_chapter "$nb" "${CHAPTER_S:-180}" 60;;
    esac
  done
}

step_compare() { run_chapter 07_comparison 60 45; }

# augmentation in the input pipeline beside the model against inside it, each against
# unaugmented arrays, all in float32: the measurement behind the book's choice to augment in
# the model (augment.BEST_PLACE; chapter 2 glues it), into its own record (bench.py --name);
# not run again once PIPELINE_RECORD holds it
step_pipeline() {
  if [ -n "$PIPELINE_RECORD" ] && [ -f "$PIPELINE_RECORD" ]; then
    log "pipeline: recorded in $PIPELINE_RECORD already"; return
  fi
  finished_here pipeline && return
  # (its record is written at the end: cut short, it leaves nothing, so it starts only with
  # well over its estimated 110-150 s left)
  run_guarded pipeline "${PIPELINE_S:-240}" "${PIPELINE_MIN_S:-180}" "$PY" benchmarks/bench.py \
    --only augmentation --ways arrays model:crop pipeline:crop --name pipeline $PIPELINE_ARGS \
    --out "$STAGE/results/bench"
}

step_bench() {  # its record is rewritten after every network (bench.py)
  if [ -z "$BENCH_ARGS" ]; then log "bench: nothing to time"; return; fi
  run_guarded bench "${BENCH_S:-300}" 45 "$PY" benchmarks/bench.py --only augmentation \
    $BENCH_ARGS --out "$STAGE/results/bench"
}

# The runs without a notebook (seeds, trials) log every JAX compilation and its seconds (JAX's
# own jax_log_compiles; a notebook's stored output would carry them too, so not the chapters):
# what a first epoch's minute or more goes to, e.g. grep 'XLA compilation of jit(train_step' LOG
COMPILE_LOG=(env "JAX_LOG_COMPILES=${JAX_LOG_COMPILES:-1}")

# finished_here NAME: whether a run of that name (a seed, a trial, the pipeline bench) finished
# in this stage (a second call on the warm machine, or a name given twice), whose record the
# stage holds already
finished_here() {
  if awk -v name="$1" '$1 == name { found = 1 } END { exit !found }' "$STAGE/finished" 2>/dev/null; then
    log "$1: finished already on this machine, not run again"; RC=0; return 0
  fi
  return 1
}

train_run() {  # train_run LOGNAME ARGS...: one run of tools/train_runs.py, collected at once
  local name=$1; shift
  finished_here "$name" && return
  run_guarded "$name" "${RUN_S:-200}" "${RUN_MIN_S:-110}" "${COMPILE_LOG[@]}" "$PY" tools/train_runs.py --profile "$PROFILE" "$@"
}

# run_limits NETWORK LIMIT_S: a trial's or seed's time limit and the time it needs left to
# start, from its runs on the H200 (results/device-logs, a python start and the test
# included): VGG16-big 55 s, VGG16 67 s, ResNet18 84 s a seed (2026-11-30), and about 40 %
# more to start; GoogLeNet's 269 s (a first epoch of 196 s, compiling twice, since mended) and
# 120 s for its float32 trial, so 300 s to start in mixed precision, until a GoogLeNet seed of
# this stage has finished: then the longest such run's time and 30 s (seeds of one recipe take
# about as long, each compiling afresh; a trial may change the recipe's length, so it does not
# count). RUN_MIN_S, where set, overrides the others' (the smoke check's runs are shorter)
googlenet_needs() {
  local took
  took=$(grep -E '^seed[0-9]+-googlenet [0-9]+$' "$STAGE/finished" 2>/dev/null \
         | cut -d' ' -f2 | sort -n | tail -1)
  if [ -n "$took" ]; then echo $(( took + 30 )); else echo 300; fi
}
run_limits() {
  case $1 in
    googlenet) echo "${GOOGLENET_TRIAL_S:-400} ${GOOGLENET_TRIAL_MIN_S:-$(googlenet_needs)}";;
    vgg16_bigconv) echo "$2 ${RUN_MIN_S:-80}";;
    vgg16) echo "$2 ${RUN_MIN_S:-95}";;
    *) echo "$2 ${RUN_MIN_S:-115}";;
  esac
}

# recorded_run NETWORK SEED: whether RECORDED_IN holds that seed's record (committed from an
# earlier session): train_runs.py would refuse it, after a Python start of device time
recorded_run() {
  local file=$1; [ "$2" = 0 ] || file="$1-seed$2"
  [ -n "$RECORDED_IN" ] && [ -f "$RECORDED_IN/$file.json" ]
}

# committed_gpu_trial NETWORK SETTINGS: whether TRIALS_RECORDED_IN holds that trial from a GPU
# (its name as results.trial_name writes it; a CPU's trial of the same name does not count)
committed_gpu_trial() {
  local name; name="$1-$(tr ',' '-' <<< "$2" | sed 's/[^A-Za-z0-9._=-]/_/g')"
  [ -n "$TRIALS_RECORDED_IN" ] || return 1
  grep -lqs '"gpu": true' "$TRIALS_RECORDED_IN/$name.json" "$TRIALS_RECORDED_IN/$name"-trial*.json
}

# seeds 1 and 2 of each network, one run at a time, but for those with a record in RECORDED_IN
# already (committed from an earlier session); SEED_RUNS="SEED:NETWORK ..." names the runs instead
step_seeds() {
  local runs=${SEED_RUNS:-} run seed net skipped=""
  if [ -z "${runs// }" ]; then
    for seed in 1 2; do
      for net in $CHEAPEST_FIRST; do
        if recorded_run "$net" "$seed"; then
          skipped="$skipped $seed:$net"
        else runs="$runs $seed:$net"; fi
      done
    done
    [ -z "$skipped" ] || log "seeds recorded in an earlier session, not run again (RECORDED_IN= with nothing after it runs them):$skipped"
    [ -n "$runs" ] || log "seeds: none left to run"
  fi
  local lim min
  for run in $runs; do
    seed=${run%%:*} net=${run#*:}
    if ! [[ $seed =~ ^[0-9]+$ ]] || ! is_network "$net"; then
      log "seed run '$run': write SEED:NETWORK, the network one of $CHEAPEST_FIRST"
      FAILED="$FAILED $run"; continue
    fi
    if recorded_run "$net" "$seed"; then  # named, but committed from an earlier session
      log "seed$seed-$net: recorded in $RECORDED_IN already, not run again"; continue
    fi
    read -r lim min <<< "$(run_limits "$net" "${RUN_S:-200}")"
    RUN_S=$lim RUN_MIN_S=$min train_run "seed$seed-$net" --seeds "$seed" --networks "$net"
  done
}

# the trials run the fast recipe with settings changed (tools/train_runs.py --trial --set): one
# change at a time, seed 0; at smoke size, a few images and one epoch (a check of the chain)
step_trials() {
  local all=${TRIALS:-}
  if [ -z "${all// }" ]; then log "trials: none named (TRIALS=\"network:NAME=VALUE,...\")"; return; fi
  local trial net settings small=""
  [ "${DEVICE_SMOKE:-0}" = 1 ] && small="epochs=1 train_per_class=8 val_per_class=2 test_per_class=2 batch_size=16 bn_recalibration=16"
  for trial in $all; do
    net=${trial%%:*} settings=${trial#*:}
    if [ "$settings" = "$trial" ] || [ -z "$settings" ] || ! is_network "$net"; then
      log "trial '$trial': write network:NAME=VALUE[,NAME=VALUE], the network one of $CHEAPEST_FIRST"
      FAILED="$FAILED $trial"; continue
    fi
    RC=124; local name="trial-$net-${settings//[^A-Za-z0-9.=_-]/_}" lim min
    finished_here "$name" && continue
    if committed_gpu_trial "$net" "$settings"; then
      log "$name: a GPU's record of it is in $TRIALS_RECORDED_IN already, not run again"; continue
    fi
    read -r lim min <<< "$(run_limits "$net" "${TRIAL_S:-240}")"
    min=${TRIAL_MIN_S:-$min}
    # a smaller batch than the recipe's 512 takes more steps an epoch (VGG16 at 128: about
    # 100-130 s where its seeds took 67): it needs more time left to finish
    if [[ $settings =~ (^|,)batch_size=([0-9]+) ]] && [ "${BASH_REMATCH[2]}" -lt 512 ] \
        && [ "$min" -lt "${SMALL_BATCH_MIN_S:-200}" ]; then
      min=${SMALL_BATCH_MIN_S:-200}
    fi
    run_guarded "$name" "$lim" "$min" "${COMPILE_LOG[@]}" BOOK_PROFILE=fast "$PY" tools/train_runs.py --profile fast \
      --seeds 0 --networks "$net" --trial --set ${settings//,/ } $small
  done
}

step_controls() {  # an arm recorded already (committed from an earlier session) is left out
  for arm in five_3x3 thirteen_big; do
    train_run "control-$arm" --controls "$arm" --skip-recorded
  done
}

for step in "${@:-chapters bench}"; do
  for s in $step; do
    if [ "$(left)" -lt 30 ]; then log "$s: skipped (deadline)"; continue; fi
    log "step $s"; "step_$s"
  done
done
if [ -n "$FAILED" ]; then log "done; failed:$FAILED"; pack; exit 1; fi
log "done"
pack  # after the last line, so that the archive's progress.log ends as $OUT's does
