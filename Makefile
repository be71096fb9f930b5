# Thin wrapper over CMake + ctest. Every target first installs missing Debian packages.
BUILD  ?= build
ASAN   ?= build-asan
JOBS   ?= $(shell nproc)
PREFIX ?= /usr/local
FUZZ   ?= build-fuzz
FUZZ_SECONDS ?= 60
CLANG  ?= clang

.PHONY: all deps build check demo bench install clean fuzz

all: build

# Install only the missing Debian packages (prints the apt-get line and exits 2 when not root).
deps:
	@./scripts/install-deps.sh

# Configure and build the optimised tree.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Run every test, in the optimised tree and again under AddressSanitizer + UBSan (there without MPI:
# OpenMPI keeps memory to the end, which LeakSanitizer would report as our leaks).
check: build
	@./scripts/get-mnist.sh || echo "make check: MNIST could not be fetched; its tests are skipped"
	@cd $(BUILD) && OMP_WAIT_POLICY=PASSIVE ctest --output-on-failure -j $(JOBS)
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DRG_SANITIZE=ON -DRG_MPI=OFF >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && OMP_WAIT_POLICY=PASSIVE ctest --output-on-failure -j $(JOBS)

# The main job: fetch MNIST, then regimes demo (the theory screen, then the measured headlines of
# each paper into results/demo/report.md). OMP_WAIT_POLICY=PASSIVE: idle threads sleep instead of
# spinning between the sampler's short parallel regions (free when idle, a large gain on a busy machine).
demo: build
	@./scripts/get-mnist.sh || echo "make demo: MNIST could not be fetched; its step is skipped"
	@OMP_WAIT_POLICY=PASSIVE ./$(BUILD)/regimes demo

# Performance benchmarks (ratios measured in one run).
bench: build
	@./scripts/install-deps.sh
	@cmake --build $(BUILD) --target bench

# libFuzzer (clang) on the idx, npy, checkpoint, text matrix and sidecar (a checkpoint's metadata,
# cli/model.c) readers, FUZZ_SECONDS each (default 60); new inputs go to $(FUZZ)/corpus-*,
# fuzz/corpus/* are the seeds, a crash stops with its input saved as
# $(FUZZ)/crash-<target>-* (make it a regression test in tests/test_<module>.c).
FUZZ_CFLAGS = -std=c11 -Wall -Wextra -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fopenmp -Iinclude -Isrc $(shell pkg-config --cflags openblas lapacke sleef libpng zlib)
FUZZ_LIBS   = $(shell pkg-config --libs openblas lapacke sleef libpng zlib) -lm
FUZZ_OBJ    = $(patsubst src/%.c,$(FUZZ)/obj/%.o,$(wildcard src/*.c))
FUZZ_TARGETS = idx npy ckpt matrix sidecar
FUZZ_BIN    = $(patsubst %,$(FUZZ)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_CLI    = $(FUZZ)/obj/cli_model.o $(FUZZ)/obj/cli_args.o
.SECONDARY: $(FUZZ_OBJ)
$(FUZZ)/obj/%.o: src/%.c $(wildcard src/*.h include/regimes/*.h)
	@mkdir -p $(FUZZ)/obj
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_OBJ)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) $(FUZZ_LIBS) -o $@
$(FUZZ)/obj/cli_%.o: cli/%.c $(wildcard cli/*.h include/regimes/*.h)
	@mkdir -p $(FUZZ)/obj
	$(CLANG) $(FUZZ_CFLAGS) -Icli -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ)/fuzz_sidecar: fuzz/fuzz_sidecar.c fuzz/fuzz_common.h $(FUZZ_OBJ) $(FUZZ_CLI)
	$(CLANG) $(FUZZ_CFLAGS) -Icli -fsanitize=fuzzer $< $(FUZZ_CLI) $(FUZZ_OBJ) $(FUZZ_LIBS) -o $@
fuzz: deps $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ)/corpus-$$t; \
	  echo "make fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  quiet=; [ $$t = sidecar ] && quiet=-close_fd_mask=2; \
	  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(FUZZ)/fuzz_$$t $$quiet -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ)/crash-$$t- $(FUZZ)/corpus-$$t fuzz/corpus/$$t || exit 1; done

# Install library, headers, pkg-config file and CLI under PREFIX (default /usr/local).
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
