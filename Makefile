# The two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?=

.PHONY: run test install install-test postgres browser bench clean schemas

# `make run PORT=8001` (or COLDWARN_PORT) serves on another port
run: install
	$(BIN)/coldwarn db upgrade
	COLDWARN_SECURE_COOKIES=0 $(BIN)/coldwarn serve --scenario demo $(if $(PORT),--port $(PORT))

test: install-test postgres browser
	$(BIN)/python -m pytest

# Running needs only the package; the tests' extras are added by `make test`.
install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "coldwarn needs Python >= 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# The PostgreSQL tests use 127.0.0.1:5432, database `test`. Start the local cluster if it is down;
# without one, those tests are skipped locally and fail under CI.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  { command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1 && \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; } || \
	  echo "PostgreSQL is not running on 127.0.0.1:5432: its tests will be skipped"

# The printable task sheet is checked in headless Chromium with a CJK font (Debian packages).
browser:
	@if command -v chromium >/dev/null && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "chromium or fonts-noto-cjk missing (apt-get install chromium fonts-noto-cjk): browser tests will be skipped"; fi

bench: install-test
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache

# Rewrite docs/schemas/ from notifiers/schemas.py after a deliberate change to an event's contract.
schemas: install
	$(BIN)/python -c 'from pathlib import Path; from notifiers.schemas import PUBLISHED, schema_file; \
	  [Path(f"docs/schemas/{t}.v1.json").write_text(schema_file(t), encoding="utf-8") for t in PUBLISHED]'
