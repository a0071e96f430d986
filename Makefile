# Quire: `make run` starts the product, `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test test-rust test-web test-e2e web deps-web

# Build the web app and the server, then serve both on http://127.0.0.1:8080
# with an embedded SQLite database in ./quire-data.
run: web
	$(CARGO) run --release -p quire -- serve --web-dir web/app/dist

web: deps-web
	npm --prefix web run build

deps-web:
	scripts/install-web-deps.sh

# Every test: Rust (engine, storage on SQLite and PostgreSQL when
# QUIRE_TEST_DATABASE_URL is set, core, server, client), web unit tests, browser tests.
test: test-web test-rust test-e2e

test-rust:
	$(CARGO) build --release -p quire
	$(CARGO) test --workspace --release

test-web: deps-web
	npm --prefix web test

test-e2e: web
	$(CARGO) build --release -p quire
	npm --prefix web run e2e

# Side-by-side benchmark against ShareDB (../shared/peers/sharedb) on this machine; not part of
# `make test`. See BENCHMARKS.md for the other workloads (bench/*.sh).
.PHONY: bench
bench:
	bench/compare.sh
