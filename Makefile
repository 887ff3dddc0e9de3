# weir: developer entry points. `make test` is what CI runs (via .ci/run).
GO        ?= go
FUZZTIME  ?= 3s
ADDR      ?= 127.0.0.1:8080

.PHONY: all test vet race fuzz cross bench run lint

all: test

## test: vet, race-enabled tests, a short run of every fuzz target, cross-builds
test: vet race fuzz cross

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 ./...

## fuzz: run each Go fuzz target for $(FUZZTIME) (FUZZTIME=1m make fuzz for longer)
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

## cross: the kqueue and fallback code must keep building on other platforms
cross:
	@for os in darwin freebsd windows; do \
		echo "GOOS=$$os go build/vet ./..."; \
		GOOS=$$os GOARCH=amd64 $(GO) build ./... || exit 1; \
		GOOS=$$os GOARCH=amd64 $(GO) vet ./... || exit 1; \
	done

## bench: micro-benchmarks of every hot path
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## run: the demo server
run:
	$(GO) run ./cmd/weir serve -addr $(ADDR)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
