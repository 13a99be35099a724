# qmp-mock — the two commands users need are `make run` and `make test`.
# Every target installs what it needs first (scripts/bootstrap.sh), using sudo only when not root.

SHELL       := /bin/bash
SWIFT       ?= swift
CONFIG      ?= debug
ARGS        ?=
PYTEST_ARGS ?=
BENCH_ARGS  ?=
BIN_DEBUG   := .build/debug/qmp-mockd
VENV_PY     := .venv/bin/python

.PHONY: all build release install run test test-swift test-integration conformance conformance-qemu10 conformance-run bench bench-quick format lint clean check-asan check-tsan fuzz fuzz-build fuzz-long fuzz-merge

all: build

# qemu-system-x86_64 is a link to qmp-mockd: invoked under that name it reads QEMU's command line
# (docs/qemu-command-line.md).
build:
	@scripts/bootstrap.sh
	$(SWIFT) build
	ln -sfn qmp-mockd .build/debug/qemu-system-x86_64

# The Swift runtime is linked statically (startup ~2x faster, less RSS), and so are the C++ runtime it
# needs and libyaml (libstdc++.a and libyaml.a, linked into .build/static-libs, which Package.swift
# searches first; without them the link uses the .so). libsystemd and glibc stay dynamic.
release:
	@scripts/bootstrap.sh
	@mkdir -p .build/static-libs
	@for lib in libstdc++.a libyaml.a; do \
	a=$$(clang -print-file-name=$$lib 2>/dev/null); \
	if [ -f "$$a" ]; then ln -sfn "$$a" .build/static-libs/$$lib; \
	else rm -f .build/static-libs/$$lib; echo "release: no $$lib; linking the shared library" >&2; fi; \
	done
	$(SWIFT) build -c release --static-swift-stdlib
	ln -sfn qmp-mockd .build/release/qemu-system-x86_64

## install: the release binaries into $(PREFIX)/bin, with the qemu-system-x86_64 link beside them
PREFIX ?= /usr/local
install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/qmp-mockd .build/release/qmp-mockctl .build/release/qmp-bench $(DESTDIR)$(PREFIX)/bin/
	ln -sfn qmp-mockd $(DESTDIR)$(PREFIX)/bin/qemu-system-x86_64

## run: start qmp-mockd (release build) in the foreground; pass flags with ARGS="--qmp /tmp/q.sock ..."
run: release
	.build/release/qmp-mockd $(ARGS)

## test: everything — Swift unit tests, integration tests against the built daemon over real sockets,
## and the differential conformance suite against real QEMU.
test:
	@scripts/bootstrap.sh test
	@# QEMU before the integration tests too (the runner's own checks compare with it); when it cannot
	@# be installed, the conformance run below fails with a banner that says so.
	@scripts/bootstrap.sh qemu || echo "test: installing qemu-system-x86 failed (see above)" >&2
	@# Go, Kata's govmm and Ganeti's monitor for test_govmm.py (real stacks' hot-plug code); when
	@# they cannot be installed, that test fails and says so.
	@scripts/bootstrap.sh govmm ganeti || echo "test: installing govmm (Go) or Ganeti failed (see above)" >&2
	@# libvirt 9.0 for test_libvirt.py (real libvirt running qmp-mockd as its emulator); when it cannot
	@# be installed, that test fails and says so.
	@scripts/bootstrap.sh libvirt || echo "test: installing libvirt failed (see above)" >&2
	$(SWIFT) build --build-tests
	ln -sfn qmp-mockd .build/debug/qemu-system-x86_64
	$(MAKE) --no-print-directory lint test-swift bench-quick test-integration conformance-run

test-swift:
	$(SWIFT) test --skip-build 2>&1 | tee .build/swift-test.log; exit $${PIPESTATUS[0]}

test-integration:
	QMP_MOCKD=$(abspath $(BIN_DEBUG)) $(VENV_PY) -m pytest -q Tests/integration $(PYTEST_ARGS)

## conformance: every scenario in conformance/scenarios against real QEMU (installed from Debian when
## missing) and against qmp-mockd, compared under docs/deviations.md. Without QEMU it fails, loudly.
CONFORMANCE_ARGS ?=
conformance:
	@scripts/bootstrap.sh test
	@scripts/bootstrap.sh qemu || echo "conformance: installing qemu-system-x86 failed (see above)" >&2
	$(SWIFT) build --product qmp-mockd
	@$(MAKE) --no-print-directory conformance-run

## conformance-qemu10: the same suite against QEMU 10.0 (unpacked from bookworm-backports into
## .build-qemu10, nothing installed); qmp-mockd runs its 10.0 profile. Not part of make test.
conformance-qemu10:
	@scripts/bootstrap.sh test
	@[ -x .build-qemu10/usr/bin/qemu-system-x86_64 ] || scripts/get-qemu10.sh .build-qemu10
	$(SWIFT) build --product qmp-mockd
	QEMU=$(abspath .build-qemu10/usr/bin/qemu-system-x86_64) $(MAKE) --no-print-directory conformance-run

# Internal: the runner alone, on what the caller installed and built (make test, and the two above).
conformance-run:
	QMP_MOCKD=$(abspath $(BIN_DEBUG)) $(VENV_PY) conformance/run.py $(CONFORMANCE_ARGS)

## bench: raw socket echo, qmp-mockd (release) and real QEMU 7.2 in one run; then libvirt 9.0 driving
## each (probe, virsh create, attach/detach of a disk, destroy); results to bench/results/
bench: release
	@scripts/bootstrap.sh qemu libvirt
	mkdir -p bench/results
	.build/release/qmp-bench suite --out bench/results $(BENCH_ARGS)
	python3 bench/libvirt-bench.py --mockd .build/release/qmp-mockd --out bench/results

## bench-quick: a few seconds, no QEMU, nothing written: proves qmp-bench works (no thresholds)
bench-quick:
	$(SWIFT) build --product qmp-bench
	.build/debug/qmp-bench suite --quick --mockd $(abspath $(BIN_DEBUG))

format:
	$(SWIFT) format --in-place --configuration .swift-format -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict --configuration .swift-format -r Sources Tests Package.swift
	@# The embedded QMP schemas must be what the generator makes of schema/ (no stale Swift source).
	python3 scripts/generate-qmp-schema.py --check
	python3 scripts/generate-probe.py --check

clean:
	rm -rf .build .build-* .venv

## check-asan / check-tsan: the whole suite (Swift tests, and the integration tests against a
## sanitized daemon) under AddressSanitizer / ThreadSanitizer. Separate scratch folders.
check-asan:
	@scripts/bootstrap.sh test
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(abspath scripts/lsan.supp) $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	# The daemon ends with exit() and never frees its world: leak checks at its exit say nothing
	# (memory growth is measured by the churn and cycle tests instead); memory errors still abort.
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 QMP_MOCKD_SANITIZER=address QMP_MOCKD=$(abspath .build-asan/debug/qmp-mockd) \
		$(VENV_PY) -m pytest -q Tests/integration $(PYTEST_ARGS)

check-tsan:
	@scripts/bootstrap.sh test
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 QMP_MOCKD_SANITIZER=thread QMP_MOCKD=$(abspath .build-tsan/debug/qmp-mockd) \
		$(VENV_PY) -m pytest -q Tests/integration $(PYTEST_ARGS)

## fuzz: builds the libFuzzer targets (Fuzz/, docs/fuzzing.md) optimised with AddressSanitizer and
## debug info, and runs each for FUZZ_SECONDS in one process on one core (no -jobs) on its seed corpus (Fuzz/corpus/NAME, kept
## in the repository; new findings land in .build-fuzz/corpus/NAME). CI runs it with FUZZ_SECONDS=10.
FUZZ_SECONDS ?= 60
## fuzz-long: each target for FUZZ_RUNS executions (not part of make test; ~35 min a target at 5,000/s).
FUZZ_RUNS    ?= 10000000
FUZZ_TARGETS := fuzz-wire fuzz-session fuzz-machine
FUZZ_BIN     := .build-fuzz/release
# malloc_context_size=0: ASan records no stack per allocation (7-11 % of a run, docs/fuzzing.md);
# run a crashing input again without it to read where the memory was allocated and freed.
FUZZ_ENV     := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:malloc_context_size=0
fuzz-build:
	@scripts/bootstrap.sh
	@for t in $(FUZZ_TARGETS); do \
		FUZZ=1 $(SWIFT) build -c release --product $$t --scratch-path .build-fuzz \
			-Xswiftc -sanitize=fuzzer,address -Xswiftc -g -Xswiftc -parse-as-library -Xswiftc -use-ld=lld || exit 1; \
	done

# Per-target libFuzzer flags: fuzz-wire's inputs are bounded to 256 bytes (its corpus keeps every edge
# at that length, and an input's cost grows with its messages; docs/fuzzing.md, "Speed").
FUZZ_FLAGS_wire := -max_len=256
# One target: FUZZ_LIMIT is its libFuzzer bound (-max_total_time=S or -runs=N).
define fuzz-one
	n=$${t#fuzz-}; mkdir -p .build-fuzz/corpus/$$n; \
	case $$n in wire) flags="$(FUZZ_FLAGS_wire)";; *) flags="";; esac; \
	echo "== $$t ($(1) $$flags)"; \
	$(FUZZ_ENV) $(FUZZ_BIN)/$$t $(1) $$flags -detect_leaks=0 -print_final_stats=1 \
		.build-fuzz/corpus/$$n Fuzz/corpus/$$n 2>&1 \
		| grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY|Done|crash|Test unit written" ; \
	test $${PIPESTATUS[0]} -eq 0 || exit 1
endef

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do $(call fuzz-one,-max_total_time=$(FUZZ_SECONDS)); done

fuzz-long: fuzz-build
	@for t in $(FUZZ_TARGETS); do $(call fuzz-one,-runs=$(FUZZ_RUNS)); done

## fuzz-merge: minimises each target's checked-in corpus plus what the runs found (.build-fuzz/corpus)
## into a fresh directory with libFuzzer's -set_cover_merge=1 (a smaller set than -merge=1 with the same features), and puts that in Fuzz/corpus/NAME (then commit it).
fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		n=$${t#fuzz-}; rm -rf .build-fuzz/merged/$$n; mkdir -p .build-fuzz/merged/$$n .build-fuzz/corpus/$$n; \
		case $$n in wire) flags="$(FUZZ_FLAGS_wire)";; *) flags="";; esac; \
		$(FUZZ_ENV) $(FUZZ_BIN)/$$t $$flags -set_cover_merge=1 .build-fuzz/merged/$$n Fuzz/corpus/$$n .build-fuzz/corpus/$$n \
			2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || exit 1; \
		rm -rf Fuzz/corpus/$$n && cp -r .build-fuzz/merged/$$n Fuzz/corpus/$$n; \
		echo "$$t: $$(ls Fuzz/corpus/$$n | wc -l) files in Fuzz/corpus/$$n"; \
	done
