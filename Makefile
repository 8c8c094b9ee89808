# parley: common tasks. `make test` is the project's test command.

GO ?= go
FUZZTIME ?= 10s
# STATICCHECK is staticcheck at a pinned version, run with go run so that it
# is none of the module's requirements.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-go vet fuzz js-deps fmt fmt-check lint bench conformance soak bench-cluster

all: build

build:
	$(GO) build ./...

# test runs everything: the linters, then Go unit, integration, interop and
# browser tests (with the race detector), then a short run of every fuzzer.
test: lint js-deps test-go fuzz

# test-go prints what go test prints, then the tests that were skipped and
# why (a missing service, Node.js or browser), through internal/test/testreport;
# then it runs internal/engineio's tests once more with the long polls left
# to net/http, the path a server without PollListener takes.
test-go: vet
	$(GO) test -race -count=1 -timeout 15m -json ./... | $(GO) run ./internal/test/testreport
	@echo "internal/engineio again, every poll left to net/http:"
	PARLEY_TEST_PLAIN_POLLING=1 $(GO) test -race -count=1 -timeout 5m ./internal/engineio/

vet:
	$(GO) vet ./...

# fuzz runs each fuzz target for FUZZTIME. A real finding writes its input
# under testdata/fuzz and fails. Go 1.26's fuzz coordinator can also fail a
# run with a bare "context deadline exceeded" when FUZZTIME runs out while a
# worker is busy (golang/go#75804, fixed in Go 1.27): such a run, with no
# input written, is run once more instead of failing the build.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			for attempt in 1 2; do \
				echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
				if out=$$($(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then \
					echo "$$out" | tail -n 1; break; \
				fi; \
				echo "$$out"; \
				case "$$out" in \
				*"Failing input written"*) exit 1 ;; \
				*"context deadline exceeded"*) [ $$attempt = 1 ] || exit 1; \
					echo "fuzz: the coordinator's deadline race (golang/go#75804), no input written: once more" ;; \
				*) exit 1 ;; \
				esac; \
			done; \
		done; \
	done

# js-deps installs the test-only JavaScript peers from the lockfile.
js-deps:
	@if [ ! -d test/js/node_modules ] || [ test/js/package-lock.json -nt test/js/node_modules/.package-lock.json ]; then \
		npm ci --prefix test/js --no-audit --no-fund; \
	fi

# GOFILES are the Go files, committed or not yet (ignored ones aside); in a
# copy of the tree that is no git checkout, every .go file but node_modules'.
GOFILES = $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || \
	find . -name '*.go' -not -path '*/node_modules/*' -not -path './.git/*')

fmt:
	gofmt -w $(GOFILES)

# fmt-check fails on Go files, committed or not yet, that gofmt would change.
fmt-check:
	@files=$$(gofmt -l $(GOFILES)) || exit 1; \
	if [ -n "$$files" ]; then echo "gofmt would change (run make fmt):"; echo "$$files"; exit 1; fi

# lint checks formatting, then runs go vet and staticcheck (its default
# checks; any turned off would be in staticcheck.conf, each with its reason).
lint: fmt-check vet
	$(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

conformance:
	$(GO) run ./cmd/conformance

# soak runs parley for SOAK_DURATION twice under parley bench's load with
# churn, the second time with a hostile client alongside, and checks that
# its memory stays bounded, nothing acked is lost and the p99 stays within
# 2× (bench/soak/README.md). It takes twice SOAK_DURATION and more; it is
# not part of test.
SOAK_DURATION ?= 10m
soak:
	$(GO) run ./bench/soak --duration $(SOAK_DURATION)

# bench-cluster measures parley on two nodes of a cluster in one run of
# about 5 minutes (bench/cluster/README.md): latency at 40k deliveries/s on
# one node and across two, Redis commands per chat message, the ceiling of
# two nodes. It starts its own redis-server and needs PostgreSQL
# (PARLEY_TEST_POSTGRES, or postgres://postgres@127.0.0.1:5432/test); it
# is not part of test. BENCH_CLUSTER_FLAGS are passed on (--quick, --out).
BENCH_CLUSTER_FLAGS ?=
bench-cluster:
	$(GO) run ./bench/cluster $(BENCH_CLUSTER_FLAGS)
