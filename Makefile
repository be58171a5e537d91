# Rampart. The two commands in README.md: `make run` and `make test`.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(CURDIR)/.tools:$(PATH)
export GOFLAGS ?= -buildvcs=true

GO          ?= go
VERSION     := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
BIN         := bin/rampart
DEMO_CONFIG ?= examples/demo.yaml
FUZZTIME    ?= 20000x
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all deps deps-build build run test vet lint nodpdk unit fuzz-smoke bench bench-full bench-go bench-report bench-capture bench-pipeline bench-baseline image image-test clean

all: build

# Installs what is missing (apt packages, Go modules); a no-op when all is there.
deps:
	scripts/install-deps.sh test
	$(GO) mod download

deps-build:
	scripts/install-deps.sh build
	$(GO) mod download

build: deps-build
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rampart

# The sensor on the built-in demo traffic (no NIC needed); Ctrl-C stops it.
run: build
	$(BIN) sensor --config $(DEMO_CONFIG)

# Every check CI runs.
test: deps vet lint nodpdk unit fuzz-smoke

vet:
	$(GO) vet ./...
	$(GO) vet -tags nodpdk ./...

.tools/staticcheck:
	GOBIN=$(CURDIR)/.tools $(GO) install $(STATICCHECK)

lint: .tools/staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	.tools/staticcheck ./...

# The project must build, and its DPDK-free parts pass, without DPDK.
nodpdk:
	$(GO) build -tags nodpdk ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# Each fuzz target for FUZZTIME beyond its checked-in corpus (which `unit` runs):
# a count of executions, not a duration (see scripts/fuzz-smoke.sh).
fuzz-smoke:
	FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh

# The benchmark scenarios against real generators (bench/cmd/rampart-bench):
# capture ceiling, full pipeline, detection latency to BIRD, snapshots under
# load, flow ingestion, scale. Each writes bench/results/<scenario>.json;
# the marked section of BENCHMARKS.md and the charts are regenerated.
# `bench` is quick (fewer repetitions, shorter runs), `bench-full` complete.
BENCH_ARGS ?=
bench: deps
	$(GO) run ./bench/cmd/rampart-bench run $(BENCH_ARGS)

bench-full: deps
	$(GO) run ./bench/cmd/rampart-bench run -full $(BENCH_ARGS)

# BENCHMARKS.md's generated section and the charts from bench/results/*.json.
bench-report:
	$(GO) run ./bench/cmd/rampart-bench report

# The hot path's Go benchmarks, one core, 5 runs each (compare with benchstat).
BENCH_PKGS := ./sensor/packet ./sensor/hosts ./sensor ./sensor/aggregate ./sensor/flow ./sensor/pcapfile
bench-go: deps-build
	mkdir -p bench/results
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 5 -cpu 1 -timeout 60m $(BENCH_PKGS) | tee bench/results/go-bench.txt

# Receive-and-free through our DPDK binding vs testpmd rxonly on the same
# link (net_pcap replay and memif from a testpmd generator), A B A B.
bench-capture: deps-build
	bench/capture/run.sh

# The whole sensor over DPDK (net_pcap) vs testpmd rxonly on the same device.
bench-pipeline: deps-build
	bench/capture/pipeline.sh

# `rampart baseline report` over 100M host-rows of Arrow snapshots vs
# DuckDB computing the same quantiles over the same rows as Parquet.
bench-baseline: deps-build
	bench/baseline/run.sh

# The bootable appliance disk image (bin/appliance/rampart.raw and .qcow2),
# and its boot test in qemu: see images/ and README.md, "Appliance".
image:
	scripts/install-deps.sh image
	$(GO) mod download
	images/build.sh

image-test:
	scripts/install-deps.sh image
	images/test.sh

clean:
	rm -rf bin .tools
