# Two commands on a fresh machine: `make run` (the page, demo mode unless COURIER_API_KEY is
# set) and `make test` (everything the tests need, then the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# pyproject.toml maps templates/ and static/ into the package on purpose; setuptools warns about
# any such mapping on every editable install.
INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install -q

.PHONY: run serve link topics test bench chromium redis lint

run: $(VENV)/.run-deps
	PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" \
		exec $(BIN)/flask --app app run --host $(HOST) --port $(PORT)

# Production server (gunicorn.conf.py); needs COURIER_API_KEY and SECRET_KEY. Without a key each
# gunicorn worker would run a demo emulator of its own: `make run` is the demo.
serve: $(VENV)/.run-deps
	$(if $(COURIER_API_KEY),,$(error COURIER_API_KEY is not set: `make serve` runs against \
		Courier (see README, "Running in production"); for the demo, run `make run`))
	exec $(BIN)/gunicorn -c gunicorn.conf.py

# A signed link for a person: make link USER=user-1 [TOPIC=topic-id] [TENANT=...] [LOCALE=de]
# (TOPIC: a one-click unsubscribe link; PREVIEW=1 [BY=agent-id]: a read-only support preview).
# Signed like `make run`'s links, built on its address.
link: $(VENV)/.run-deps
	$(if $(filter command line,$(origin USER)),,$(error give the person: make link USER=user-id \
		[TOPIC=topic-id] [TENANT=tenant-id] [LOCALE=de]; `make topics` lists the topic ids))
	@PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" \
		$(BIN)/flask --app app link '$(USER)' $(if $(TOPIC),--unsubscribe '$(TOPIC)') \
		$(if $(TENANT),--tenant '$(TENANT)') $(if $(LOCALE),--locale '$(LOCALE)') \
		$(if $(PREVIEW),--preview) $(if $(BY),--by '$(BY)')

# The workspace's sections and topic ids (the demo's without COURIER_API_KEY).
topics: $(VENV)/.run-deps
	@$(BIN)/flask --app app link --list-topics

test: $(VENV)/.test-deps chromium redis
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.test-deps chromium
	$(BIN)/python -m bench

lint: $(VENV)/.test-deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(INSTALL) -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(INSTALL) -e '.[test]'
	touch $@

# Browser tests drive Debian's Chromium; Playwright's own browser downloads are not used.
chromium:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The shared rate-limit test (tests/test_shared_limits.py) runs Debian's redis-server on a
# loopback port, as the counters' shared store in production would be.
redis:
	@command -v redis-server >/dev/null || { \
		echo "Installing Debian's redis-server for the shared rate-limit test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }
