# bench/bench.mk — the benchmarks of issue 3, included by the top Makefile.
#
#   make bench        builds every benchmark into $(O)/bench/ (next to $(O)/bin/nsemd, which the
#                     library finds as <program dir>/../bin/nsemd)
#   make bench-run    builds and runs them all, one after the other; each starts a private server
#                     of its own unless NSEM_SERVER is set. BENCH_ARGS=--quick: a tenth of the work.
#
# Benchmarks are never part of `make check`: timings live here, not in tests.

BENCH_PROGS    := uncontended pingpong waitany names abandon scale flood
BENCH_BINS     := $(BENCH_PROGS:%=$(O)/bench/%)
BENCH_UTIL_OBJ := $(O)/obj/bench/bench_util.o
BENCH_ARGS     ?=

.PHONY: bench bench-run
bench: $(BENCH_BINS) $(NSEMD)

# Objects come from the top Makefile's $(O)/obj/%.o rule (the same flags as the library).
$(BENCH_BINS): $(O)/bench/%: $(O)/obj/bench/%.o $(BENCH_UTIL_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(BENCH_UTIL_OBJ) $(LIBA) $(ALL_LDFLAGS)

bench-run: bench
	@echo "machine: $$(nproc) CPUs," \
		"$$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $$(uname -r)"
	@echo "load average before the run: $$(cut -d' ' -f1-3 /proc/loadavg)"
	@for b in $(BENCH_PROGS); do \
		echo; echo "==== $(O)/bench/$$b $(BENCH_ARGS)"; \
		$(O)/bench/$$b $(BENCH_ARGS) || exit 1; \
	done
