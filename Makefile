# Sealgate: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# Go from the official tarball lives in /usr/local/go; make it findable.
export PATH := $(PATH):/usr/local/go/bin

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X sealgate/shared/buildinfo.Version=$(VERSION)
GOBUILD := go build -trimpath -ldflags '$(LDFLAGS)'
CHILD_USER ?= sealgate-child

# What a fresh Debian bookworm lacks. chromium is for browser tests of the
# console and portal; opencv-data carries the fallback detection cascades; the
# libav*-dev headers are for decoding and encoding in process (inner/video/av.c).
DEB_PACKAGES := gcc g++ pkg-config curl libopencv-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev opencv-data ffmpeg postgresql chromium fonts-nanum nftables shellcheck prometheus

.PHONY: help deps build run test fuzz bench soak clean release vulncheck

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the system packages that are missing (apt-get, as root)
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v go >/dev/null || { echo "make deps: Go 1.26 is required (https://go.dev/dl/ or the machine image)"; exit 1; }
	@# The user a root sealgate-inner runs its decoders as (inner/child); the
	@# daemon refuses to start without it. Also appliance/systemd/sealgate.sysusers.
	@getent passwd $(CHILD_USER) >/dev/null || { echo "make deps: creating the system user $(CHILD_USER)"; \
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group $(CHILD_USER); }
	@appliance/assets/fetch.sh var/assets

build: deps ## Build bin/sealgate-inner (cgo+OpenCV), bin/sealgate-outer and bin/sealgate-open (pure Go; also .exe)
	CGO_ENABLED=1 $(GOBUILD) -o bin/sealgate-inner ./appliance/cmd/sealgate-inner
	CGO_ENABLED=0 $(GOBUILD) -o bin/sealgate-outer ./appliance/cmd/sealgate-outer
	CGO_ENABLED=0 $(GOBUILD) -o bin/sealgate-open ./appliance/cmd/sealgate-open
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GOBUILD) -o bin/sealgate-open.exe ./appliance/cmd/sealgate-open

run: build ## Run inner + outer here with private databases (var/demo); Ctrl-C stops both
	@appliance/demo/run.sh

test: deps ## vet, gofmt check, static pure-Go builds, all tests (real PostgreSQL, OpenCV)
	go vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	CGO_ENABLED=0 go build -o /dev/null ./appliance/cmd/sealgate-outer
	CGO_ENABLED=0 go build -o /dev/null ./appliance/cmd/sealgate-open
	@# inner/watermark's code starts no goroutine (the inner/mask it calls in
	@# tests is race-tested in its own package), so the race detector has
	@# nothing to find there and only makes its key search 6x slower: it runs
	@# without -race, beside the rest (its output follows theirs).
	@log=$$(mktemp); go test -count=1 -timeout 15m ./inner/watermark/ > $$log 2>&1 & wm=$$!; \
		go test -race -count=1 -timeout 15m $$(go list ./... | grep -vx sealgate/inner/watermark) || rc=$$?; \
		wait $$wm || rc=$$?; cat $$log; rm -f $$log; exit $${rc:-0}

FUZZTIME ?= 20s
fuzz: deps ## Run every fuzz target for FUZZTIME each (default 20s)
	@for pkg in $$(go list ./...); do \
		for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

bench: deps ## Run the benchmarks; each figure is printed beside its baseline
	go test -run '^$$' -bench . -benchtime 5x -count 1 $$(go list ./... | grep -v '/appliance/outerd$$\|/appliance/innerd$$')
	@# A 500,000-row ledger: its pages beside the count query, 5 rounds; each whole file once (the xlsx takes ~20 s).
	go test -run '^$$' -bench 'BenchmarkLedger/(count|page)' -benchtime 5x -count 1 ./appliance/innerd
	go test -run '^$$' -bench 'BenchmarkLedger/ledger' -benchtime 1x -count 1 ./appliance/innerd
	@# One round of BenchmarkDownload moves 100 GiB (100 downloads of 1 GiB at once).
	go test -run '^$$' -bench . -benchtime 1x -count 1 ./appliance/outerd

soak: deps ## Acceptance soak (~25 min, ~20 GB of disk): 1,000 small + 3 × 2 GiB packages across kills (in-process and SIGKILL), link cuts of 60 s and 10 min
	SEALGATE_SOAK_SMALL=1000 SEALGATE_SOAK_LARGE=3 SEALGATE_SOAK_LARGE_MB=2048 SEALGATE_SOAK_CHAOS_S=40 \
		go test -count=1 -timeout 60m -run 'TestSoakDeliveryAcrossKills|TestSoakSIGKILL' -v ./appliance/
	SEALGATE_SOAK_CUTS=60s,10m go test -count=1 -timeout 30m -run TestResumeAfterProductionCuts -v ./transfer/send/

# Release bundles (docs/updates.md): VERSION must be a semantic version
# (v1.2.3) and RELEASE_KEY the offline release.key (sealgate-release keygen).
CYCLONEDX := go run github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
release: build ## Signed update bundles with CycloneDX SBOMs in dist/ (RELEASE_KEY=path VERSION=vX.Y.Z)
	@[ -n "$(RELEASE_KEY)" ] || { echo "make release: RELEASE_KEY=path/to/release.key is required (go run ./appliance/cmd/sealgate-release keygen --out DIR makes one)"; exit 1; }
	CGO_ENABLED=0 $(GOBUILD) -o bin/sealgate-release ./appliance/cmd/sealgate-release
	@mkdir -p dist
	$(CYCLONEDX) bin -json -version $(VERSION) -output dist/sealgate-open.cdx.json bin/sealgate-open
	@for d in inner outer; do \
		echo "== sealgate-$$d $(VERSION)"; \
		$(CYCLONEDX) bin -json -version $(VERSION) -output bin/sealgate-$$d.cdx.json bin/sealgate-$$d && \
		bin/sealgate-release bundle --key $(RELEASE_KEY) --kind $$d --version $(VERSION) \
			--out dist/sealgate-$$d-$(VERSION)-$$(go env GOOS)-$$(go env GOARCH).tar.gz bin/sealgate-$$d bin/sealgate-$$d.cdx.json || exit 1; \
	done

# govulncheck against the Go vulnerability database of a pinned
# golang.org/x/vulndb, from the module proxy (vuln.go.dev is not reachable
# here), indexed once into VULNDB. Not in `make test`: SECURITY.md says why.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB ?= $(HOME)/.cache/sealgate/vulndb-$(VULNDB_VERSION)
vulncheck: ## govulncheck ./... against a pinned, offline vulnerability database (SECURITY.md)
	@if [ ! -f $(VULNDB)/index/db.json ]; then \
		echo "make vulncheck: indexing golang.org/x/vulndb@$(VULNDB_VERSION) into $(VULNDB)"; \
		go mod download golang.org/x/vulndb@$(VULNDB_VERSION) && rm -rf $(VULNDB).tmp && \
		go run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns $$(go env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv -out $(VULNDB).tmp && \
		mv $(VULNDB).tmp $(VULNDB) || exit 1; \
	fi
	go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -db file://$(VULNDB) ./...

clean: ## Remove build output (not var/demo: that is the demo's data)
	rm -rf bin dist
