# make book | make test | make reproduce PROFILE=cpu|fast|full | make compare [PROFILE=fast] |
# make chapters CHAPTERS="02_cifar10_data ..." [PROFILE=cpu] | make bench | make device-prep
# Each target creates .venv and installs requirements.txt on first use (again only when
# requirements.txt or pyproject.toml change).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= cpu
NETWORKS := 03_vgg16 04_vgg16_bigconv 05_googlenet 06_resnet18
SHARED_DATA := ../shared/data/cifar10-jpeg.tar.gz
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 1
# nbval and papermill start each kernel in notebooks/, where a relative CIFAR10_PATH would
# miss: recipes that read it make it absolute first (in the shell: spaces and a value given
# on make's command line included)
ABSOLUTE_DATA = if [ -n "$$CIFAR10_PATH" ]; then \
  CIFAR10_PATH="$$($(PYTHON) -c 'import os, sys; print(os.path.abspath(sys.argv[1]))' \
  "$$CIFAR10_PATH")"; export CIFAR10_PATH; fi;

.PHONY: book test reproduce chapters compare bench device-prep clean

$(STAMP): requirements.txt pyproject.toml
	@# (a venv that failed half-way, e.g. without Debian's python3-venv, has python but no pip)
	test -x $(BIN)/pip || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@# keras.utils.plot_model draws with Graphviz's `dot` program, not a Python package
	command -v dot > /dev/null || (command -v apt-get > /dev/null && [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && apt-get install -y -qq graphviz > /dev/null) \
	  || echo "Graphviz not installed: architecture diagrams will be skipped"
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --quiet
	@echo "The book is in _build/html/index.html"

# The unit tests and every notebook under nbval (smoke profile), on two workers; nbval
# compares the cells marked NBVAL_CHECK_OUTPUT. Then the book must build without a warning.
test: $(STAMP)
	@# smoke records are checks each run remakes (git ignores them): an old one, of fields
	@# since changed, must not decide what chapter 7 does under nbval
	rm -rf results/smoke
	$(ABSOLUTE_DATA) BOOK_PROFILE=smoke $(BIN)/pytest -q -n 2 --dist loadscope --nbval-lax \
	  --hypothesis-profile=make-test tests notebooks
	$(BIN)/jupyter-book build . -W -n --keep-going --quiet

reproduce: $(STAMP)
	@test -n "$$CIFAR10_PATH" || test -f $(SHARED_DATA) || \
	  echo "CIFAR10_PATH is not set: the notebooks will use Keras' download (needs internet)"
	@$(MAKE) --no-print-directory chapters CHAPTERS="$(NETWORKS) 07_comparison"

# seconds a cell may run: none under `full`, whose one training cell runs for hours on a GPU
# slower than an H200 (cut short, its record, written at the end, would be lost)
CELL_TIMEOUT = $(if $(filter full,$(PROFILE)),-1,7200)
# Chapters by name, each replaced by its run under PROFILE as it finishes: chapter 2 after a
# device run brings results/bench/pipeline-gpu.json, say (then make compare, last)
chapters: $(STAMP)
	@echo "Each notebook is replaced by this $(PROFILE) run as it finishes (git checkout notebooks restores the stored ones)"
	$(ABSOLUTE_DATA) for nb in $(CHAPTERS); do \
	  CIFAR10_PATH=$${CIFAR10_PATH:-$$(test -f $(SHARED_DATA) && realpath $(SHARED_DATA))} \
	  BOOK_PROFILE=$(PROFILE) $(BIN)/papermill --cwd notebooks notebooks/$$nb.ipynb \
	    notebooks/.$$nb.run.ipynb --log-output --execution-timeout $(CELL_TIMEOUT) \
	  && mv notebooks/.$$nb.run.ipynb notebooks/$$nb.ipynb || exit 1; \
	done

# Chapter 7 alone, on the records there are (after a device run's records are unpacked). The
# stored chapter is the `fast` view (make test checks it so): that is its default, not `cpu`
COMPARE_PROFILE = $(if $(filter command line environment,$(origin PROFILE)),$(PROFILE),fast)
compare: $(STAMP)
	@$(MAKE) --no-print-directory chapters CHAPTERS=07_comparison PROFILE=$(COMPARE_PROFILE)

bench: $(STAMP)
	$(ABSOLUTE_DATA) CIFAR10_PATH=$${CIFAR10_PATH:-$$(test -f $(SHARED_DATA) && realpath $(SHARED_DATA))} \
	  $(BIN)/python benchmarks/bench.py

# What tools/device_run.sh needs on a GPU machine that has JAX but no TensorFlow or Keras:
# the wheels (.whl/) and the data archive (data/), both git-ignored; name them in `carry`.
# The next trials of the fast recipe on a GPU, one change each to seed 0 (chapter 7 and
# helpers/profiles.py say why these), most telling first: on the H200, VGG16 with a weaker L2
# (1e-4) trained and tested lower (81.9 %, beyond its three seeds' spread), so the opposite, a
# stronger one, with BN in every layer a larger effective step; ResNet18's training accuracy
# fell at the peak rate soon after the 2-epoch warm-up in all three seeds (by 10 to 23 points,
# epochs 4-10; seed 1 again at epoch 32), so a 5-epoch warm-up (Goyal et al.'s); VGG16 underfits (85.7-87.3 % training accuracy) in 3,200 updates, so
# four times the updates at the same rate per image (batch 128 at 0.05); GoogLeNet's training
# accuracy falls at the peak rate in both its GPU runs, so a lower peak (0.1).
NEXT_TRIALS := vgg16:weight_decay=0.001 resnet18:warmup_epochs=5 \
  vgg16:batch_size=128,learning_rate=0.05 googlenet:learning_rate=0.1
# The next seeds, run before the trials: GoogLeNet's seed 1 (it has one seed; 2 is missing too),
# then a seed of each other network, so that one run of each comes from one version of the code
# and chapter 7 can set them against the recipe's time aim (the stored ones come from two).
NEXT_SEEDS := 1:googlenet 3:vgg16_bigconv 3:vgg16 3:resnet18 2:googlenet
# some of the wheels the device run installs, its own needs and two compiled ones theirs
# bring (an empty .whl/ from a failed download would only show there, after a machine start)
DEVICE_WHEELS := keras-3.15.1- optree- namex- papermill- ipykernel- nbformat- pydot- pyzmq- tornado-
MISSING_WHEELS = for w in $(DEVICE_WHEELS); do ls .whl/$$w*.whl > /dev/null 2>&1 || echo $$w; done
device-prep:
	test -z "$$($(MISSING_WHEELS))" || { rm -rf .whl && bash ../shared/device/wheels.sh .whl; }
	@missing=$$($(MISSING_WHEELS)); test -z "$$missing" \
	  || { echo "No wheel in .whl/ for: $$missing (the device run would stop at its install)"; exit 1; }
	mkdir -p data && cp -n $(SHARED_DATA) data/ 2>/dev/null || test -f data/cifar10-jpeg.tar.gz \
	  || echo "Put cifar10-jpeg.tar.gz in data/ (or set CIFAR10_PATH on the GPU machine)"
	@echo "Device call (carry .whl and data; timeout_s 600):"
	@echo "  BOOK_GIT_COMMIT=$$(git rev-parse HEAD)$$(git diff --quiet HEAD -- src notebooks tools benchmarks || echo -dirty) DEADLINE_S=570 SEED_RUNS=\"$(NEXT_SEEDS)\" TRIALS=\"$(NEXT_TRIALS)\" bash tools/device_run.sh chapters bench pipeline seeds trials"

clean:
	rm -rf _build
