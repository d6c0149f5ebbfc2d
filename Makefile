# Development tasks for fxpool. `make run` starts the service; `make test`
# runs the test suite exactly as CI does.

GO ?= go
BIN := $(CURDIR)/bin
BENCH ?= .
GOLANGCI_LINT_VERSION := v2.15.0
HEY_VERSION := v0.1.5

.PHONY: all run test cover bench lint fmt tidy e2e tools

all: lint test

run:
	$(GO) run ./cmd/notifier

test:
	$(GO) test -race -count=1 ./...

cover:
	$(GO) test -race -count=1 -covermode=atomic -coverprofile=cover.out ./...
	$(GO) tool cover -html=cover.out -o cover.html

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...

e2e: $(BIN)/hey
	HEY=$(BIN)/hey $(GO) test -tags e2e -count=1 -v ./e2e

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
