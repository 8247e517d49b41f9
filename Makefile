# Targets: build test test-busy chaos demo bench lint testdata clean ('make help'). See README.md.

SHELL := /bin/bash
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 3s

# need installs the apt packages $(1) when the command $(2) is missing.
need = command -v $(2) >/dev/null 2>&1 || { \
	echo "installing $(1) (apt-get)" >&2; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; }

.PHONY: build test test-busy chaos demo bench lint testdata clean help

## build: every command under cmd/ into ./bin, stamped with the git version
build:
	@mkdir -p bin
	go build -trimpath -ldflags '-X main.version=$(VERSION)' -o bin/ ./cmd/...

## test: go test -race ./... against a throwaway PostgreSQL (installed if missing) and S3-compatible server (versitygw, built once), the HTML reports in headless Chromium (installed if missing), the README's runnable blocks, the jobs/ manifests' tests, the OpenAPI lint (redocly, spectral), the fault replay at 200,000 events, a short fuzz of every target
test:
	@$(call need,gcc libc6-dev,$$(go env CC))
	@$(call need,chromium,chromium)
	scripts/with-postgres.sh scripts/with-s3.sh go test -race ./... ./testdata/gen/... ./testdata/fixtures/gen/...
	cd jobs && go test ./...
	scripts/lint-openapi.sh
	scripts/faults.sh 200000
	scripts/fuzz.sh $(FUZZTIME)

## test-busy: make test while one busy loop per core keeps the machine at 100% (what CI's shared runners look like)
test-busy:
	scripts/with-busy-cpus.sh $(MAKE) test

## chaos: the fault replay at 2,000,000 events, with its late-file-and-resume and conflicting-duplicates rounds
chaos:
	scripts/faults.sh 2000000

## demo: the month-end job (replay, verify, bill, report) on the bundled data against a sandbox that drops and doubles events
demo:
	scripts/demo.sh

## bench: every benchmark beside its reference, one run, written to BENCHMARKS.md (BENCH_SIZE=small for a quick one)
bench:
	@$(call need,wrk,wrk)
	@$(call need,rclone,rclone)
	scripts/with-postgres.sh scripts/with-s3.sh bash bench/all.sh

## lint: gofmt must have nothing to say; go vet
lint:
	@out=$$(find . -name '*.go' -not -path '*/node_modules/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	go vet ./...
	cd jobs && go vet ./...

## testdata: regenerate the sample data set in testdata/sample
testdata:
	go run ./testdata/gen -out testdata/sample

## clean: remove build and run outputs
clean:
	rm -rf bin out

## help: list the targets
help:
	@sed -n 's/^## //p' $(firstword $(MAKEFILE_LIST))
