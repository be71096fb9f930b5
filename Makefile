# Thin wrapper over CMake + ctest. Every target first installs missing Debian packages.
BUILD  ?= build
ASAN   ?= build-asan
JOBS   ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: all deps build check demo bench install clean

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
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DRG_SANITIZE=ON -DRG_MPI=OFF >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ctest --output-on-failure -j $(JOBS)

# The main job: print the theory for a few documented example processes.
demo: build
	@./$(BUILD)/regimes demo

# Performance benchmarks (ratios measured in one run).
bench: build
	@cmake --build $(BUILD) --target bench

# Install library, headers, pkg-config file and CLI under PREFIX (default /usr/local).
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN)
