# fusekit / passthroughfs: the two commands a newcomer needs are `make run`
# and `make test`; both install what is missing first (apt, as root).
JOBS ?= $(shell nproc)
SOURCE ?=
MOUNTPOINT ?=

.PHONY: deps build build-run install deb run test test-asan test-tsan fuzz stress bench clean

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j$(JOBS)

# Only what `make run` runs: the library and passthroughfs.
build-run: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j$(JOBS) --target passthroughfs

# cmake --install of the release build under PREFIX (DESTDIR honoured),
# stripped: headers, libfusekit, the CMake package, fusekit.pc,
# PREFIX/sbin/passthroughfs, man pages, examples.
PREFIX ?= /usr/local
install: build-run
	@cmake --build build/release -j$(JOBS) --target fusekit
	@cmake --install build/release --prefix $(PREFIX) --strip

# Debian packages (passthroughfs, libfusekit-dev, libfusekit0) in build/deb.
deb: deps
	@./scripts/build-deb.sh

# passthroughfs in the foreground: SOURCE defaults to a demo directory
# (/tmp/passthroughfs-demo/source, created), MOUNTPOINT to
# /tmp/passthroughfs-demo/mnt. Ctrl-C or `umount MOUNTPOINT` ends it.
run: build-run
	@./scripts/run-demo.sh "$(SOURCE)" "$(MOUNTPOINT)"

test: build
	@ctest --preset release -j$(JOBS) --timeout 300

# The sanitizer runs leave out the behaviour suite's native reference
# (no fusekit code runs in it), and ThreadSanitizer also the modes whose
# daemon code another mode runs already (CacheNever: DirectIo's path with
# timeouts of 0; IoUringNever: IoUring's transport with PassthroughNever's
# I/O): they double CI's time and find nothing new.
SANITIZER_SKIP := /Native( |$$)
TSAN_SKIP := /(Native|CacheNever|IoUringNever)( |$$)

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j$(JOBS)
	@ctest --preset asan -j$(JOBS) --timeout 300 -E '$(SANITIZER_SKIP)'

test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build build/tsan -j$(JOBS)
	@ctest --preset tsan -j$(JOBS) --timeout 300 -E '$(TSAN_SKIP)'

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j$(JOBS) --target decode_fuzzer
	@./scripts/run-fuzz.sh build/fuzz/tests/fuzz/decode_fuzzer $(or $(FUZZ_SECONDS),60)

# The stress run of `make test`, long: several checker processes per mode.
stress: build
	@FUSEKIT_STRESS_OPS=$(or $(STRESS_OPS),50000) ctest --preset release -L stress --timeout 3600

# passthroughfs against the native filesystem, side by side; prints the
# table and writes bench/results/{latest.csv,ratios.png}; then daemon
# memory per inode, the scale row (1,000,000 files, bench/scale.sh) and the
# coherence figures (staleness, warm metadata, the watcher's cost,
# bench/coherence.sh), and bindfs against passthroughfs with the same
# policy, with the cost of audit= (bench/policy.sh). BENCH_SIZE,
# BENCH_REPEATS, BENCH_DIR tune it (see bench/run.sh).
bench: build
	@./bench/run.sh
	@./bench/memory.sh
	@MEMORY_INODES=never ./bench/memory.sh
	@./bench/scale.sh
	@./bench/coherence.sh
	@./bench/policy.sh
	@build/release/bench/proto_bench --benchmark_min_time=0.2

clean:
	rm -rf build
