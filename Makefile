# The two commands a newcomer needs: `make start` and `make test`.
# Each creates the virtual environment in .venv on first use and installs what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: start stop status test lint typecheck unit venv samples clean catalogues

# pip's and setuptools' chatter goes to a log, shown only when a step fails.
LOG := $(VENV)/install.log
QUIETLY = > $(LOG) 2>&1 || { cat $(LOG); echo "failed; the output above is in $(LOG)"; exit 1; }

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Posthorn and its dependencies into $(VENV) (a minute or two, once)..."
	@$(BIN)/python -m pip install -q --upgrade pip setuptools wheel $(QUIETLY)
	@$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=strict $(QUIETLY)
	@$(SOURCES) > $(MODULES)
	@touch $(STAMP)

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

# The strict editable install links each file: it is refreshed only when files come or
# go (the list in $(MODULES) changes), not when one is edited, so a repeated
# `make start` installs nothing.
MODULES := $(VENV)/.modules
SOURCES = find src runners queues handlers -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | LC_ALL=C sort

venv: $(STAMP)
	@$(SOURCES) > $(MODULES).new
	@if cmp -s $(MODULES).new $(MODULES); then rm -f $(MODULES).new; else \
		echo "Refreshing the editable install (files were added or removed)..."; \
		$(BIN)/python -m pip install -q --no-deps -e . --config-settings editable_mode=strict $(QUIETLY); \
		mv $(MODULES).new $(MODULES); fi

start: venv
	@$(BIN)/posthorn start

stop: $(STAMP)
	@$(BIN)/posthorn stop

status: $(STAMP)
	@$(BIN)/posthorn status

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv samples
	$(BIN)/pytest

test: lint typecheck unit

# The gettext catalogues in $(LOCALE): the template of every string marked _("...")
# in the code, each language's .po brought up to date with it (new strings empty,
# gone ones commented out), and the .mo files compiled from them (committed, so an
# installed package needs no build step; tests/i18n checks they match).
LOCALE := src/posthorn/locale
catalogues: venv
	$(BIN)/pybabel extract --no-default-keywords -k _ --no-location --sort-output \
		--add-comments=Translators: --project=Posthorn --charset=utf-8 \
		-o $(LOCALE)/posthorn.pot src/posthorn runners handlers queues
	@if ls $(LOCALE)/*/LC_MESSAGES/posthorn.po >/dev/null 2>&1; then \
		$(BIN)/pybabel update -i $(LOCALE)/posthorn.pot -d $(LOCALE) -D posthorn \
			--no-fuzzy-matching --ignore-obsolete && \
		$(BIN)/pybabel compile -d $(LOCALE) -D posthorn --statistics; fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
