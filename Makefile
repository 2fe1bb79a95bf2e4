# 两个命令 / the two commands (a fresh clone needs only python3 with venv):
#   make demo   — set up a virtual environment, migrate, seed the Kunming demo and serve the portal
#                 at http://127.0.0.1:8000/ (PORT=8123 make demo for another port)
#   make test   — set up and run the whole test suite; exits non-zero when pytest does
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: demo test setup lint messages compiled-messages

$(VENV)/.installed: pyproject.toml
	@echo "==> 正在创建虚拟环境 $(VENV) / creating the virtual environment"
	$(PYTHON) -m venv $(VENV)
	@echo "==> 正在安装依赖(首次约 1–3 分钟)/ installing dependencies (1–3 minutes the first time)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off --disable-pip-version-check -e '.[dev]'
	@echo "==> 依赖已安装 / dependencies installed"
	touch $@

setup: $(VENV)/.installed

# The source strings are Chinese, so the portal works without compiled catalogues; only the
# English pages need them. No .po files yet, or no msgfmt (GNU gettext) here: say so and go on.
compiled-messages: setup
	@if ! find . -path ./$(VENV) -prune -o -path '*/LC_MESSAGES/*.po' -print | grep -q .; then \
	  echo "make: no translations (locale/*/LC_MESSAGES/*.po) yet; nothing to compile"; \
	elif ! command -v msgfmt >/dev/null 2>&1; then \
	  echo "make: msgfmt not found (apt-get install gettext): English pages stay untranslated"; \
	else \
	  $(PY) manage.py compilemessages --ignore=$(VENV) -v0; \
	fi

demo: setup compiled-messages
	@echo "==> 正在迁移数据库 / migrating the database"
	$(PY) manage.py migrate --noinput
	@echo "==> 正在写入演示数据(约 1–2 分钟)/ loading the demo (1–2 minutes)"
	$(PY) manage.py seed_demo
	@echo "==> 在 http://127.0.0.1:$(PORT)/ 提供服务,按 Ctrl+C 停止 / serving at http://127.0.0.1:$(PORT)/, Ctrl+C stops it"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: setup compiled-messages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

messages: setup
	$(PY) manage.py makemessages -l en --ignore=$(VENV) --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages --ignore=$(VENV)
