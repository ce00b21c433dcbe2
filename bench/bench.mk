# bench/bench.mk — the benchmarks of issue 3, included by the top Makefile.
#
#   make bench        builds every benchmark into $(O)/bench/ (next to $(O)/bin/nsemd, which the
#                     library finds as <program dir>/../bin/nsemd), and bench-wine below
#   make bench-run    builds and runs them all, one after the other; each starts a private server
#                     of its own unless NSEM_SERVER is set. BENCH_ARGS=--quick: a tenth of the work.
#   make bench-wine   the Wine column: installs Wine and MinGW if they are missing (as root, with
#                     apt-get; otherwise it says what to install and skips), builds the Win32 twins
#                     bench/wine/*.c into $(O)/bench/wine/*.exe, and initialises their Wine prefix
#                     $(O)/bench/wine/prefix once (never ~/.wine), so that no timed run creates it.
#                     Each native benchmark runs its twin under Wine itself (bench_wine.c); without
#                     Wine its column says n/a. BENCH_WINE=0: no Wine at all.
#
# Benchmarks are never part of `make check`: timings live here, not in tests.

BENCH_PROGS    := uncontended pingpong waitany names abandon scale flood polling
BENCH_BINS     := $(BENCH_PROGS:%=$(O)/bench/%)
BENCH_UTIL_OBJ := $(O)/obj/bench/bench_util.o $(O)/obj/bench/bench_wine.o
BENCH_ARGS     ?=
BENCH_WINE     ?= 1

.PHONY: bench bench-run bench-wine
bench: $(BENCH_BINS) $(NSEMD) $(if $(filter 1,$(BENCH_WINE)),bench-wine)

# Objects come from the top Makefile's $(O)/obj/%.o rule (the same flags as the library).
$(BENCH_BINS): $(O)/bench/%: $(O)/obj/bench/%.o $(BENCH_UTIL_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(BENCH_UTIL_OBJ) $(LIBA) $(ALL_LDFLAGS)

# ---- the Wine column ------------------------------------------------------------------------
# Debian's wine runs 64-bit programs with wine64 alone: no i386 architecture, no wine32. Their
# recommended packages (fonts, sound, Gecko) are not needed by console programs.

WINE_PROGS  := uncontended pingpong waitany names abandon
WINE_DIR    := $(O)/bench/wine
WINE_EXES   := $(WINE_PROGS:%=$(WINE_DIR)/%.exe)
WINE_PKGS   := wine wine64 gcc-mingw-w64-x86-64
WINE        ?= wine
WINESERVER  ?= wineserver
MINGW_CC    ?= x86_64-w64-mingw32-gcc
MINGW_FLAGS := -std=c17 -O2 -D__USE_MINGW_ANSI_STDIO=1 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes
# What every Wine command here runs with (bench_wine.c sets the same for the benchmarks).
WINE_ENV     = WINEPREFIX=$(abspath $(WINE_DIR))/prefix WINEDEBUG=-all WINEDLLOVERRIDES=mscoree,mshtml=
HAVE_WINE    = $(MINGW_CC) --version >/dev/null 2>&1 && $(WINE) --version >/dev/null 2>&1

bench-wine:
	@if $(HAVE_WINE); then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "bench-wine: installing $(WINE_PKGS)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get update && apt-get install -y --no-install-recommends $(WINE_PKGS); } >$(O)/bench-wine-apt.log 2>&1 \
			|| echo "bench-wine: apt-get failed (see $(O)/bench-wine-apt.log): the Wine column will say n/a"; \
	else \
		echo "bench-wine: for the Wine column, as root: apt-get install $(WINE_PKGS); skipped"; \
	fi
	@if $(HAVE_WINE); then $(MAKE) --no-print-directory bench-wine-build; fi

# Only once the tools are there (bench-wine checks), so not a prerequisite of bench-wine itself.
.PHONY: bench-wine-build
bench-wine-build: $(WINE_EXES) $(WINE_DIR)/prefix/system.reg
	@:

$(WINE_DIR)/%.exe: bench/wine/%.c bench/wine/wine_util.c bench/wine/wine_util.h
	@mkdir -p $(@D)
	$(MINGW_CC) $(MINGW_FLAGS) -o $@ $< bench/wine/wine_util.c

# The prefix, once: `wineboot -i` writes the registry, and wineserver -w waits until it is saved.
$(WINE_DIR)/prefix/system.reg:
	@mkdir -p $(@D)
	@echo "bench-wine: initialising the Wine prefix $(@D)"
	@$(WINE_ENV) $(WINE) wineboot.exe -i >$(WINE_DIR)/wineboot.log 2>&1 && $(WINE_ENV) $(WINESERVER) -w \
		|| { echo "bench-wine: wineboot failed, see $(WINE_DIR)/wineboot.log"; rm -f $@; }

# ---- running --------------------------------------------------------------------------------
# A persistent wineserver (-p) runs from before the first benchmark to after the last, so that no
# Wine run includes its start; it is stopped (-k) even when a benchmark fails.

bench-run: bench
	@echo "machine: $$(nproc) CPUs," \
		"$$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $$(uname -r)"
	@if [ "$(BENCH_WINE)" = 1 ] && [ -f $(WINE_DIR)/prefix/system.reg ] && $(HAVE_WINE); then \
		echo "wine: $$($(WINE_ENV) $(WINE) --version), prefix $(abspath $(WINE_DIR))/prefix"; \
		$(WINE_ENV) $(WINESERVER) -p 2>/dev/null || echo "wine: wineserver -p failed: one already runs here?"; \
		export NSEM_BENCH_WINE='$(WINE)' WINE_UP=1; \
	else \
		echo "wine: not available: the Wine column says n/a"; \
		export NSEM_BENCH_WINE=none; \
	fi; \
	echo "load average before the run: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	rc=0; \
	for b in $(BENCH_PROGS); do \
		echo; echo "==== $(O)/bench/$$b $(BENCH_ARGS) (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		$(O)/bench/$$b $(BENCH_ARGS) || { rc=1; break; }; \
	done; \
	if [ -n "$$WINE_UP" ]; then $(WINE_ENV) $(WINESERVER) -k; fi; \
	exit $$rc
