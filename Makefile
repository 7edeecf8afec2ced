# salesbot — `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test run bench install clean lint

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m cli.demo

test: $(STAMP)
	$(PY) -m pytest -q -rs -p no:cacheprovider

run: $(STAMP)
	$(PY) -m cli.main run

bench: $(STAMP)
	@for m in bench/*.py; do n=$$(basename $$m .py); [ "$$n" = "__init__" ] || [ "$$n" = "common" ] || $(PY) -m bench.$$n || exit 1; done

clean:
	rm -rf $(VENV) data demo-out .pytest_cache
