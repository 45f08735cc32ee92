# Gleaner: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GLEANER := $(BIN)/gleaner
SAMPLES := tests/fixtures/jpost-gantz-2020-09-23.txt tests/fixtures/pages

.PHONY: install up down status run lint test test-unit test-integration test-faults bench bench-extract bench-parse bench-entities bench-dedup bench-dedup-store schemas clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

up: install
	ops/stack.sh up

down:
	ops/stack.sh down

status:
	ops/stack.sh status
	-$(GLEANER) status

## Fresh machine: install, start the local stack, submit the sample pages, show a search.
run: up
	$(GLEANER) submit $(SAMPLES) --collection samples --wait --timeout 600
	$(GLEANER) search "Gantz Esper" --size 3

## The linter and the type checker (configured in pyproject.toml).
lint: install
	$(BIN)/ruff check workers tests
	$(BIN)/mypy

## Lint, unit tests, integration tests against the real local stack (started if needed), then the
## fault tests on a private stack of their own (ports 6391/9211) that they break on purpose.
test: lint
	$(BIN)/pytest -m unit -q
	ops/stack.sh up
	$(BIN)/pytest -m integration -q
	$(BIN)/pytest -m faults -q

test-unit: install
	$(BIN)/pytest -m unit -q

test-integration: install
	ops/stack.sh up
	$(BIN)/pytest -m integration -q

## Fault tests: their own private stack (other ports), killed and restarted on purpose.
test-faults: install
	$(BIN)/pytest -m faults -q

## Main-content extraction: both dev sets, Gleaner vs trafilatura vs jusText.
bench-extract: install
	$(BIN)/python ops/bench/bench_extract.py

## Parse-stage CPU per page, in-process, and where it goes (ScrapingHub dev, a WCXB dev sample, trafilatura beside).
PARSE_SPEED_ARGS ?=
bench-parse: install
	$(BIN)/python ops/bench/parse_speed.py $(PARSE_SPEED_ARGS)

## Throughput: in-process vs queued pipeline, index stage vs plain bulk, producer, worker RSS.
## On a fresh stack of its own (ports 6393/9213), stopped at the end; `--stack current` for yours.
BENCH_ARGS ?= --runs 5
bench: install
	$(BIN)/python ops/bench/bench_pipeline.py $(BENCH_ARGS)

## Entities: leak precision/recall on both dev sets vs plain spaCy, then the score against human
## gold (CoNLL++ dev stories); ENTITIES_ARGS=--cv adds the cross-validation of the stage's settings.
ENTITIES_ARGS ?=
bench-entities: install
	$(BIN)/python ops/bench/bench_entities.py $(ENTITIES_ARGS)

## Near-duplicates: pair precision/recall per kind of copy (threshold chosen by fold of sites), the
## clusters of the whole dev set, CPU per page. DEDUP_ARGS="--cache .dedup-bodies.json" reuses parsed pages.
DEDUP_ARGS ?=
bench-dedup: install
	$(BIN)/python ops/bench/bench_dedup.py $(DEDUP_ARGS)

## What the near-duplicate lookup costs the index and Redis (the basis of ops/COST.md's figures),
## against the running stack (GLEANER_ES_URL, GLEANER_REDIS_URL), on an alias of its own.
DEDUP_STORE_ARGS ?=
bench-dedup-store: install
	$(BIN)/python ops/bench/bench_dedup_store.py $(DEDUP_STORE_ARGS)

schemas: install
	$(GLEANER) schemas

clean: down
	rm -rf .stack
