# skymesh: two commands on a fresh machine.
#   make run   set up what is missing, migrate, start the control plane
#   make test  set up what is missing, lint, type-check, run every test tier
.PHONY: run test venv services lint clean

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

venv:
	@bash scripts/bootstrap.sh

services:
	@bash scripts/services.sh

lint: venv
	@.venv/bin/ruff check .
	@.venv/bin/mypy

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
