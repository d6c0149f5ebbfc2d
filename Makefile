# Development tasks for fxpool. `make run` starts the service; `make test`
# runs the test suite exactly as CI does.

GO ?= go
BIN := $(CURDIR)/bin
BENCH ?= .
GOLANGCI_LINT_VERSION := v2.15.0
HEY_VERSION := v0.1.5

.PHONY: all run test cover bench bench-compare lint fmt tidy e2e tools

all: lint test

run:
	$(GO) build -o $(BIN)/notifier ./cmd/notifier
	$(BIN)/notifier

test:
	$(GO) test -race -count=1 ./...

cover:
	$(GO) test -race -count=1 -covermode=atomic -coverprofile=cover.out ./...
	$(GO) tool cover -html=cover.out -o cover.html

# bench runs the module's own benchmarks, then the comparison with other
# pools in the bench module, which prints a benchstat table and the ratios.
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...
	cd bench && ./run.sh

# bench-compare runs fxpool against its peers in the bench module; see
# bench/README.md. It takes several minutes.
bench-compare:
	cd bench && ./run.sh

e2e: $(BIN)/hey
	HEY=$(BIN)/hey $(GO) test -tags e2e -count=1 -v ./e2e

# fuzz runs each fuzz target for FUZZTIME; make test runs only their seeds,
# kept under testdata/fuzz.
FUZZTIME ?= 30s
.PHONY: fuzz
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./notification
	$(GO) test -run '^$$' -fuzz '^FuzzLoadEnv$$' -fuzztime $(FUZZTIME) ./modules

# soak floods the built notifier for SOAK_DURATION rather than a fixed count,
# with the same checks: every 202 delivered once, peak RSS, goroutines.
SOAK_DURATION ?= 60s
SOAK_TIMEOUT ?= 10m
.PHONY: soak
soak:
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -race -count=1 -v -timeout $(SOAK_TIMEOUT) \
		-run '^TestFloodDeliversEveryAcceptedOnce$$' ./cmd/notifier

lint: $(BIN)/golangci-lint
	$(BIN)/golangci-lint run --build-tags e2e ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }
	$(GO) mod tidy -diff

fmt:
	gofmt -w .

tidy:
	$(GO) mod tidy

tools: $(BIN)/golangci-lint $(BIN)/hey

$(BIN)/golangci-lint:
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(BIN)/hey:
	GOBIN=$(BIN) $(GO) install github.com/rakyll/hey@$(HEY_VERSION)
