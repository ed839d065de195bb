# mynumber-net: `make demo` runs the whole network locally; `make test` runs lint and every test.
SHELL := /bin/bash
UV := python3 -m uv
PY := .venv/bin/python

.PHONY: demo test lint bench install secrets wheels compose-up compose-down compose-test clean

.venv/.installed: pyproject.toml uv.lock
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	touch $@

install: .venv/.installed

secrets: install
	$(PY) -m devnet.secrets

demo: install
	$(PY) -m devnet.demo

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy services jlis broker municipality portal devnet tests bench
	.venv/bin/lint-imports

test: lint
	.venv/bin/pytest

# Performance: each script prints its ratio against a baseline measured in the same run.
bench: install
	$(PY) -m bench.issuance
	$(PY) -m bench.symbol_reissue
	$(PY) -m bench.audit_log
	$(PY) -m bench.copy_registration

# Containers without a registry: engine, debootstrap bases and wheelhouse cached under var/docker.
wheels: install
	$(PY) -m devnet.containers wheels

compose-up: install
	$(PY) -m devnet.containers up

compose-down: install
	$(PY) -m devnet.containers down

compose-test: install
	$(PY) -m devnet.containers test

clean:
	rm -rf var .venv .mypy_cache .ruff_cache .pytest_cache
