# Two commands for a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate seed lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "Relief Market is at http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/)"
	@echo "Demo logins, password relief-demo:"
	@echo "  county    county office (扶贫办): admin, registry, reports"
	@echo "  point     collection-point staff (收购点): http://127.0.0.1:8000/intake/"
	@echo "  station   sorting-station staff (分拣站)"
	@echo "  shop      supermarket staff (扶贫超市)"
	@echo "  employee  employee (干部职工): the storefront"
	@echo "  village   village staff (村爱心超市): http://127.0.0.1:8000/love-points/"
	@echo ""
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles .pytest_cache .ruff_cache
