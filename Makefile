# salesbot — `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The install is quiet: pip's warnings about this machine's index settings and the build backend's
# notes are not the demo's output (errors still show). `make install PIP_QUIET=-q` shows warnings.
PIP_QUIET ?= -qq
PIP := PYTHONWARNINGS=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 $(PY) -m pip $(PIP_QUIET)

.PHONY: demo test run bench install clean lint

$(STAMP): pyproject.toml
	@echo "installing salesbot into $(VENV) (first run only)…"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip
	@$(PIP) install -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@$(PY) -m cli.demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q -rs -p no:cacheprovider -n 3 --dist loadfile -m "not serial"
	$(PY) -m pytest -q -rs -p no:cacheprovider -m serial

run: $(STAMP)
	$(PY) -m cli.main run

bench: $(STAMP)
	@for m in bench/*.py; do grep -q '__name__ == "__main__"' $$m || continue; $(PY) -m bench.$$(basename $$m .py) || exit 1; done

clean:
	rm -rf $(VENV) data demo-out .pytest_cache
