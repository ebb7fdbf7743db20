# Chainwatch — every command a person or CI runs. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
WITH_ENV := deploy/local/with-env.sh
CW := $(BIN)/chainwatch
PYTEST := $(BIN)/python -m pytest
SYSTEM_STAMP := .cache/system-deps.done

.PHONY: help install system-deps compose-plugin demo up down status test test-unit test-integration lint fmt bench lock schemas clean distclean

help: ## List every target with what it does
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-17s\033[0m %s\n", $$1, $$2}'

$(INSTALLED): requirements.lock pyproject.toml
	@echo "==> installing the locked Python stack into $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(INSTALLED) ## Create .venv with exactly the packages of requirements.lock

system-deps: compose-plugin ## Install what the services need: Debian packages, Kafka jars, docker compose plugin
	@bash deploy/local/install.sh

compose-plugin: ## Build the docker compose plugin from the Go module proxy (only to check the compose file)
	@bash deploy/tools/install-compose.sh

demo: install ## Run the whole pipeline as far as it is built, embedded (no servers), and say where to look
	@CHAINWATCH_PROFILE=local $(CW) demo

up: install system-deps ## Start the local services (Kafka, Postgres, Redis, Mosquitto, S3, MLflow)
	@$(WITH_ENV) $(CW) services up

down: install ## Stop the local services this project started
	@$(WITH_ENV) $(CW) services down

status: install ## Show each local service with its PID, address and log
	@$(WITH_ENV) $(CW) services status

test: install system-deps ## Lint, start the real local services and run every test tier
	@$(MAKE) lint
	@$(WITH_ENV) $(CW) services up
	@$(WITH_ENV) $(PYTEST) tests

test-unit: install ## Run the unit tests only (no services, fast)
	@$(PYTEST) tests/unit

test-integration: up ## Run the integration tests against the real local services
	@$(WITH_ENV) $(PYTEST) tests/integration

lint: install compose-plugin ## ruff, mypy, JSON Schema drift and the docker-compose file
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy chainwatch streaming feature_repo tests benchmarks
	@$(CW) schemas check
	@bash deploy/tools/check-compose.sh

fmt: install ## Format the code and apply ruff's safe fixes
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

bench: up ## Run every benchmark against the local services and update benchmarks/RESULTS.md (BENCH=regex to select)
	@$(WITH_ENV) $(BIN)/python -m benchmarks.run $(BENCH)

schemas: install ## Re-export the JSON Schemas of the Kafka topics into schemas/
	@$(CW) schemas export

lock: ## Re-resolve requirements.lock from pyproject.toml with uv
	@$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean: ## Stop services, then remove local data, run folders and caches (keeps .venv)
	@if test -x $(CW); then $(WITH_ENV) $(CW) services down || true; fi
	rm -rf data .run .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

distclean: clean ## clean, and also remove .venv and downloaded jars
	rm -rf $(VENV) .cache
