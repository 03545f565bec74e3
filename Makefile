# rftpd — build, run the demo, test.
GO      ?= go
BIN     := bin/rftpd
LISTEN  ?= 127.0.0.1:2121
IMPLICIT ?= 127.0.0.1:2990
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
GOFLAGS_BUILD := -trimpath -ldflags='-s -w -X main.version=$(VERSION)'

.PHONY: all build run test vet fmt-check fuzz clean dist

all: build

build:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/rftpd

# demo/ is a small tree served anonymously and read-only by `make run`.
demo/README.txt:
	mkdir -p demo/pub/docs
	printf 'Welcome to the rftpd demo tree.\r\nEverything here is read-only for anonymous users.\r\n' > demo/README.txt
	printf 'hello, world\n' > demo/hello.txt
	printf 'line one\nline two\nline three\n' > demo/pub/docs/notes.txt
	head -c 1048576 /dev/urandom > demo/pub/random-1MiB.bin
	head -c 4096 /dev/urandom > demo/pub/small-4KiB.bin

# A self-signed certificate for the demo's FTPS, made with the generator that
# ships with Go (valid for a year, for 127.0.0.1, ::1 and localhost).
demo-tls/cert.pem:
	mkdir -p demo-tls
	cd demo-tls && $(GO) run "$$($(GO) env GOROOT)/src/crypto/tls/generate_cert.go" \
		--host 127.0.0.1,::1,localhost --ecdsa-curve P256 --duration 8760h

run: build demo/README.txt demo-tls/cert.pem
	@echo "rftpd: serving ./demo anonymously (read-only) on ftp://$(LISTEN), FTPS on ftps://$(IMPLICIT)"
	@echo "  curl ftp://$(LISTEN)/                 list the root"
	@echo "  curl -O ftp://$(LISTEN)/hello.txt     download a file"
	@echo "  curl --ssl-reqd -k ftp://$(LISTEN)/   the same over explicit FTPS (AUTH TLS; -k: self-signed)"
	@echo "  curl -k ftps://$(IMPLICIT)/           implicit FTPS"
	@echo "  lftp -p $(lastword $(subst :, ,$(LISTEN))) $(firstword $(subst :, ,$(LISTEN)))   interactive (user anonymous)"
	@echo "  Ctrl-C stops the server; kill -HUP reloads the settings and the certificate."
	./$(BIN) -listen $(LISTEN) -anonymous demo -tls-cert demo-tls/cert.pem -tls-key demo-tls/key.pem -implicit-listen $(IMPLICIT)

# Also for 32-bit ARM Linux, where int is 32 bits and Timespec's fields are int32, and for macOS and
# FreeBSD, where the server and ftpbench build without the Linux-only parts (sys_other.go, proc_other.go).
vet:
	$(GO) vet ./...
	GOARCH=arm $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	GOOS=freebsd $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: fmt-check vet
	$(GO) test -race -count=1 ./...

# Each fuzz target in turn; CI runs them briefly (FUZZTIME=20s).
FUZZTIME ?= 5m
FUZZ_TARGETS := protocol:FuzzSession protocol:FuzzParseLine reactor:FuzzStripTelnet dtp/proxy:FuzzProxyHeader
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		$(GO) test ./$${t%%:*}/ -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME); \
	done

clean:
	rm -rf bin dist

# Static release binaries of rftpd and ftpbench for Linux on amd64, arm64
# and 32-bit ARMv7 (GOARM=7), named NAME-VERSION-linux-ARCH, in dist/.
DIST_ARCHS := amd64 arm64 armv7
dist:
	@mkdir -p dist
	@set -e; for arch in $(DIST_ARCHS); do \
		goarch=$$arch; [ $$arch = armv7 ] && goarch=arm; \
		for cmd in rftpd ftpbench; do \
			echo "dist/$$cmd-$(VERSION)-linux-$$arch"; \
			CGO_ENABLED=0 GOOS=linux GOARCH=$$goarch GOARM=7 $(GO) build $(GOFLAGS_BUILD) \
				-o dist/$$cmd-$(VERSION)-linux-$$arch ./cmd/$$cmd; \
		done; \
	done
	@ls -l dist/*-$(VERSION)-linux-*

# ftpbench, the load generator (bench/, cmd/ftpbench). BENCH_CACHE holds the
# data set (with a 1 GiB file), upload folders and the unpacked peers; it must
# be readable by unprivileged users, who the peers serve files as.
# BENCH_FLAGS passes extra flags, e.g. BENCH_FLAGS='-scale 0.1' for a smoke run.
BENCH_CACHE ?= /var/tmp/rftpd-bench
BENCH_FLAGS ?=
FTPBENCH    := bin/ftpbench

.PHONY: ftpbench bench bench-compare bench-clients bench-cluster

ftpbench:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(FTPBENCH) ./cmd/ftpbench

# About 8 minutes: starts rftpd on loopback, runs the standard suite, prints the table.
bench: build ftpbench
	./$(FTPBENCH) suite -rftpd $(BIN) -cache $(BENCH_CACHE) -rftpd-version "$$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-json $(BENCH_CACHE)/bench.json -svg $(BENCH_CACHE)/bench.svg $(BENCH_FLAGS)

# What HAProxy in front costs (login and small-get, direct against through
# HAProxy with PROXY v2, in network namespaces), and shared passive ports
# against a listener per session; needs root and haproxy. About 2 minutes.
bench-cluster: build ftpbench
	./$(FTPBENCH) mkdata $(BENCH_CACHE)/data
	bench/cluster.sh $(BIN) $(FTPBENCH) $(BENCH_CACHE)/data 3 5s

# The same suite against rftpd, vsftpd, pure-ftpd, ProFTPD, the raw sendfile
# ceiling and the noop floor, 3 runs each, then the client matrix (about two hours): writes
# bench/RESULTS.md and bench/RESULTS.svg.
# Fetches the peers (apt-get download + dpkg -x) and creates the system accounts
# "ftp" and "ftpbench" they authenticate; run it as root on a quiet machine.
bench-compare: build ftpbench
	bench/fetch-peers.sh $(BENCH_CACHE)/peers $(BENCH_CACHE)/data $(BENCH_CACHE)/upload-peers
	./$(FTPBENCH) compare -rftpd $(BIN) -cache $(BENCH_CACHE) -rftpd-version "$$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-out bench/RESULTS.md -json $(BENCH_CACHE)/compare.json $(BENCH_FLAGS)

# The client matrix alone (about 10 minutes, as root, like bench-compare):
# curl, lftp and wget (and ftpbench's own client, downloads only) fetch and send the 1 GiB file from rftpd, a second rftpd
# and the peers in 10 rotating rounds; the server's CPU per GiB. Writes
# BENCH_CACHE/clients.md and clients.json, not bench/RESULTS.md.
bench-clients: build ftpbench
	bench/fetch-peers.sh $(BENCH_CACHE)/peers $(BENCH_CACHE)/data $(BENCH_CACHE)/upload-peers
	./$(FTPBENCH) compare -steps clients -rftpd $(BIN) -cache $(BENCH_CACHE) -rftpd-version "$$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-out $(BENCH_CACHE)/clients.md -json $(BENCH_CACHE)/clients.json $(BENCH_FLAGS)
