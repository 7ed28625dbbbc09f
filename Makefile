# Partner Center: `make run` to try it, `make test` to test it. Both set everything up.
PYTHON ?= python3.11
PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DEBUG ?= true

.PHONY: run test install migrate seed lint messages clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt package.json package-lock.json
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the browser libraries (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput -v0

seed: migrate
	$(BIN)/python manage.py seed_demo

# The portal, a task worker and the scheduler (Procfile), under honcho: Ctrl-C stops all three.
run: seed
	@echo "Serving Partner Center at http://127.0.0.1:$(PORT) with a task worker (Ctrl-C stops both)"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -f Procfile start -p $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

messages: install
	$(BIN)/python scripts/i18n.py update $(TRANSLATIONS)

clean:
	rm -rf $(VENV) var
