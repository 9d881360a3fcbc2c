# sluice: the two commands of the quick start are `make demo` and `make test`.
# CMake does the building; this file installs what is missing and drives it.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build asan test unit demo bench clean fuzz

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSL_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Every suite: unit tests, integration tests against real servers, interop
# with DuckDB. The last line is the total: "N passed, N failed".
test: asan
	@bash scripts/install-test-tools.sh
	@bash tests/run.sh $(ASAN_BUILD)

demo: build
	@rm -rf demo-project
	@./$(BUILD)/sluice demo demo-project
	@./$(BUILD)/sluice run --project-dir demo-project

bench: build
	@bash bench/csv_to_parquet
	@bash bench/dag/run
	@bash bench/compile/run
	@bash bench/quality/run

# libFuzzer targets for every parser (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) demo-project
