# The two commands a newcomer needs: `make run` and `make test`. Everything installs itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser run migrate demo test lint format worker beat pull-listener serve-prod bench bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's chromium (Playwright never downloads one). Installed when
# missing and this is root (CI); otherwise the browser tests say what to install and skip.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
		|| (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null); \
	fi

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Two pytest-xdist workers by default (TEST_WORKERS=0 runs in one process): each has its own
# test databases, Redis cache database and Celery worker; a test file stays on one worker.
TEST_WORKERS ?= 2
test: install browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# config/celery.py defaults to production settings; these development targets say dev.
worker: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.dev} $(BIN)/celery -A config worker --loglevel INFO

beat: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.dev} $(BIN)/celery -A config beat --loglevel INFO

# The v1 pull on its own (README: "Live sync"): woken by v1's NOTIFY, so web traffic and other
# tasks never hold it up. Run one; where the beat's pull tasks should run apart too, add a worker
# of their own: celery -A config worker -Q $$LEGACY_PULL_QUEUE --concurrency 1.
pull-listener: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.dev} $(BIN)/python manage.py legacy_pull_listen

# Production-style server: production settings unless DJANGO_SETTINGS_MODULE says otherwise;
# set DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and the database variables (README: Production).
serve-prod: export DJANGO_SETTINGS_MODULE ?= config.settings.production
serve-prod: install
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-4} --access-logfile -

bench: install
	@for script in bench/bench_*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python "$$script"; done

# Mixed learner traffic against gunicorn + PostgreSQL + Redis + a worker (README: Load).
bench-load: install
	$(BIN)/python bench/load

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
