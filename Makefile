# rftpd — build, run the demo, test.
GO      ?= go
BIN     := bin/rftpd
LISTEN  ?= 127.0.0.1:2121
GOFLAGS_BUILD := -trimpath -ldflags='-s -w'

.PHONY: all build run test vet fmt-check fuzz clean

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

run: build demo/README.txt
	@echo "rftpd: serving ./demo anonymously (read-only) on ftp://$(LISTEN)"
	@echo "  curl ftp://$(LISTEN)/                 list the root"
	@echo "  curl -O ftp://$(LISTEN)/hello.txt     download a file"
	@echo "  lftp -p $(lastword $(subst :, ,$(LISTEN))) $(firstword $(subst :, ,$(LISTEN)))   interactive (user anonymous)"
	@echo "  Ctrl-C stops the server."
	./$(BIN) -listen $(LISTEN) -anonymous demo

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: fmt-check vet
	$(GO) test -race -count=1 ./...

fuzz:
	$(GO) test ./protocol/ -run '^$$' -fuzz FuzzSession -fuzztime 5m

clean:
	rm -rf bin
