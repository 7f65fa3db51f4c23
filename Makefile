# The two commands a newcomer needs: `make start` and `make test`.
# Each creates the virtual environment in .venv on first use and installs what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: start stop status test lint typecheck unit venv samples clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=strict
	touch $(STAMP)

# Real bounces from the wild, as the flufl.bounce source distribution ships them for its
# own tests (the wheel leaves them out); the bounce and fault tests feed them through LMTP.
SAMPLES := $(VENV)/share/bounce-samples

$(SAMPLES)/.done: $(STAMP)
	rm -rf $(SAMPLES) $(VENV)/share/sdist && mkdir -p $(SAMPLES) $(VENV)/share/sdist
	$(BIN)/python -m pip download -q --no-deps --no-binary :all: -d $(VENV)/share/sdist \
		"flufl.bounce==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("flufl.bounce"))')"
	tar -xzf $(VENV)/share/sdist/*.tar.gz -C $(SAMPLES) --strip-components=3 --wildcards '*/tests/data/*.txt'
	touch $@

samples: $(SAMPLES)/.done

venv: $(STAMP)
	@# The strict editable install lists modules; refresh it so new files are importable.
	$(BIN)/python -m pip install -q --no-deps -e . --config-settings editable_mode=strict

start: venv
	$(BIN)/posthorn start

stop: $(STAMP)
	$(BIN)/posthorn stop

status: $(STAMP)
	$(BIN)/posthorn status

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv samples
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
