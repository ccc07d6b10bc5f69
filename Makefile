# Every target bootstraps uv (when missing) and syncs .venv from uv.lock first,
# so a fresh clone with only python3 and pip needs nothing else. The sync compiles the
# dependencies' bytecode once: where PYTHONDONTWRITEBYTECODE is set, every process (each test
# worker, each `cronbeat dev` an end-to-end test starts) would otherwise compile them again.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY := .venv/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: setup test lint fmt dev synth bench coverage deploy destroy openapi wheel

BOOTSTRAP_UV := command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	|| python3 -m pip install --quiet --disable-pip-version-check uv

# The whole development set: tests, linters, CDK, the browser driver.
.venv/.synced: pyproject.toml uv.lock
	@$(BOOTSTRAP_UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --quiet
	@touch $@ .venv/.synced-local

# Only what `cronbeat dev` runs on (the `local` extra, about 140 MB). --inexact keeps a full
# development set that is already there, so `make dev` after `make test` installs nothing.
.venv/.synced-local: pyproject.toml uv.lock
	@echo "make dev: installing what local mode needs (the first time only)"
	@$(BOOTSTRAP_UV)
	@$(UV) sync --frozen --extra local --no-dev --inexact --compile-bytecode --quiet
	@touch $@

setup: .venv/.synced

# The `cronbeat` command for a job host: a wheel with no dependencies, in dist/.
wheel:
	@$(BOOTSTRAP_UV)
	$(UV) build --wheel --out-dir dist --quiet

# Test workers: one per core plus one, as the end-to-end tests spend most of their time waiting
# on the servers they start (at most 5; `make test TEST_WORKERS=0` runs in one process).
TEST_WORKERS ?= $(shell python3 -c 'import os; print(min(len(os.sched_getaffinity(0)) + 1, 5))')

# The browser tests need Debian's chromium: installed here when missing and possible.
test: setup
	@.ci/ensure-chromium
	$(PY) -m pytest --numprocesses=$(TEST_WORKERS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy functions infra

# The whole monitor on this machine; pass flags through, e.g. make dev ARGS="--port 9000".
# PYTHONPATH makes the package importable even where the editable install is stale.
dev: .venv/.synced-local
	PYTHONPATH=functions $(PY) -m cronbeat.local.server $(ARGS)

fmt: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: setup
	$(PY) -m benchmarks.run

coverage: setup
	$(PY) -m pytest --cov=cronbeat --cov-report=term-missing

# openapi.json is generated from the management API's routes; a test fails when it is stale.
openapi: setup
	PYTHONPATH=functions $(PY) -c 'import pathlib; from cronbeat.handlers.api import openapi_document; pathlib.Path("openapi.json").write_text(openapi_document() + "\n")'

# The CloudFormation template and Lambda asset in cdk.out, without Docker, AWS credentials or the
# CDK CLI: cdk-nag runs during the synth, then cfn-lint fails on errors (W3005 is CDK's normal).
synth: setup
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out UV="$(UV)" JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(PY) infra/app.py
	.venv/bin/cfn-lint --ignore-checks W3005 --non-zero-exit-code error -- cdk.out/*.template.json

# The pinned CDK CLI (package.json): deploy and destroy need it, tests and synth do not.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

CDK := UV="$(UV)" JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk
ALERT_CONTEXT := $(if $(ALERT_EMAIL),-c alertEmail=$(ALERT_EMAIL)) $(if $(ALERT_SMS),-c alertSms=$(ALERT_SMS))

# make deploy ALERT_EMAIL=you@example.com [ALERT_SMS=+15555550100] [CDK_ARGS="-c tracing=true"]:
# pass the ALERT_* on every deploy (or set alertEmail/alertSms in cdk.json's context), since a
# deploy without them removes the subscriptions.
deploy: setup node_modules/.package-lock.json
	@[ -n "$(ALERT_EMAIL)$(ALERT_SMS)" ] || echo "note: no ALERT_EMAIL or ALERT_SMS: alert subscriptions come from cdk.json only"
	$(CDK) deploy $(ALERT_CONTEXT) $(CDK_ARGS)

destroy: setup node_modules/.package-lock.json
	$(CDK) destroy $(CDK_ARGS)

# Refresh docs/dashboard.png, the overview the browser tests take of seeded checks (needs chromium).
.PHONY: dashboard-screenshot
dashboard-screenshot: setup
	CRONBEAT_UPDATE_SCREENSHOT=1 $(PY) -m pytest tests/e2e/test_dashboard.py -k "overview or screenshots" -p no:cacheprovider
