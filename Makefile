# vnsearch — the two commands a new user needs: `make serve` and `make test`.
PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
VNSEARCH := $(VENV)/bin/vnsearch
INDEX_DIR ?= var/index
CORPUS_DIR ?= corpus
HOST     ?= 127.0.0.1
PORT     ?= 8000
PYTEST_ARGS ?=

.PHONY: install install-test index serve test bench-relevance bench-speed bench-reliability clean

# The virtualenv and the package (editable), re-done when pyproject changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

index: install
	$(VNSEARCH) --index-dir $(INDEX_DIR) index $(CORPUS_DIR)

# Set up, index corpus/ if there is no index yet, and serve with gunicorn.
serve: install
	@[ -e $(INDEX_DIR)/CURRENT ] || $(VNSEARCH) --index-dir $(INDEX_DIR) index $(CORPUS_DIR)
	@echo "vnsearch is serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	VNSEARCH_CORPUS_DIR=$(CORPUS_DIR) $(VNSEARCH) --index-dir $(INDEX_DIR) serve --host $(HOST) --port $(PORT)

# The whole test suite.
test: install-test
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench-relevance: install
	$(PY) bench/relevance.py ../shared/data/xquad_vi ../shared/data/xquad_r_vi_sentences ../shared/data/xquad_vi_titled ../shared/data/vietnews_title_dev

# bench/speed.py runs tantivy beside FTS5: the `bench` extra.
$(VENV)/.installed-bench: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

bench-speed: $(VENV)/.installed-bench
	$(PY) bench/speed.py

bench-reliability: install-test
	$(PY) bench/reliability.py

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache
