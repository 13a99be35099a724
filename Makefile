# qmp-mock — the two commands users need are `make run` and `make test`.
# Every target installs what it needs first (scripts/bootstrap.sh), using sudo only when not root.

SHELL       := /bin/bash
SWIFT       ?= swift
CONFIG      ?= debug
ARGS        ?=
PYTEST_ARGS ?=
BIN_DEBUG   := .build/debug/qmp-mockd
VENV_PY     := .venv/bin/python

.PHONY: all build release run test test-swift test-integration format lint clean check-asan check-tsan

all: build

build:
	@scripts/bootstrap.sh
	$(SWIFT) build

release:
	@scripts/bootstrap.sh
	$(SWIFT) build -c release

## run: start qmp-mockd (release build) in the foreground; pass flags with ARGS="--qmp /tmp/q.sock ..."
run: release
	.build/release/qmp-mockd $(ARGS)

## test: everything — Swift unit tests, then integration tests against the built daemon over real sockets.
test:
	@scripts/bootstrap.sh test
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory lint test-swift test-integration

test-swift:
	$(SWIFT) test --skip-build 2>&1 | tee .build/swift-test.log; exit $${PIPESTATUS[0]}

test-integration:
	QMP_MOCKD=$(abspath $(BIN_DEBUG)) $(VENV_PY) -m pytest -q Tests/integration $(PYTEST_ARGS)

format:
	$(SWIFT) format --in-place --configuration .swift-format -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict --configuration .swift-format -r Sources Tests Package.swift

clean:
	rm -rf .build .build-* .venv

## check-asan / check-tsan: the whole suite (Swift tests, and the integration tests against a
## sanitized daemon) under AddressSanitizer / ThreadSanitizer. Separate scratch folders.
check-asan:
	@scripts/bootstrap.sh test
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(abspath scripts/lsan.supp) $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(abspath scripts/lsan.supp) QMP_MOCKD=$(abspath .build-asan/debug/qmp-mockd) \
		$(VENV_PY) -m pytest -q Tests/integration $(PYTEST_ARGS)

check-tsan:
	@scripts/bootstrap.sh test
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 QMP_MOCKD=$(abspath .build-tsan/debug/qmp-mockd) \
		$(VENV_PY) -m pytest -q Tests/integration $(PYTEST_ARGS)
