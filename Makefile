# nsem — one GNU Makefile. Override any of these on the command line or in config.mak:
#   CC, CFLAGS, LDFLAGS, PREFIX, SANITIZE=1 (ASan+UBSan), O (build directory),
#   SYSTEMDUNITDIR (where `make install` puts nsemd.service; default $(PREFIX)/lib/systemd/system).
# The build tree mirrors the installed tree (lib/, bin/) so that the library finds nsemd the same
# way in both: <directory of the library or program>/../bin/nsemd.

-include config.mak

CC       ?= cc
PREFIX   ?= /usr/local
O        ?= build
SANITIZE ?= 0
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
BASE     := -std=c17 -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread -Iinclude -Isrc $(WARN)
ifeq ($(SANITIZE),1)
  O      := build-san
  BASE   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDSAN  := -fsanitize=address,undefined
endif
ALL_CFLAGS  = $(BASE) $(CFLAGS)
ALL_LDFLAGS = -pthread $(LDSAN) $(LDFLAGS)

COMMON_SRC := $(wildcard src/common/*.c)
LIB_SRC    := $(wildcard src/lib/*.c) $(COMMON_SRC)
SERVER_SRC := $(wildcard src/server/*.c) $(COMMON_SRC)
TEST_SRC   := $(wildcard tests/test-*.c)
HARNESS_SRC:= tests/runner.c tests/harness.c tests/checks.c

LIB_OBJ    := $(LIB_SRC:%.c=$(O)/obj/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(O)/obj/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(O)/obj/%.o) $(HARNESS_SRC:%.c=$(O)/obj/%.o)

LIBSO   := $(O)/lib/libnsem.so
LIBA    := $(O)/lib/libnsem.a
NSEMD   := $(O)/bin/nsemd
NSEMCLI := $(O)/bin/nsem
TESTS   := $(O)/tests/run-tests
DEMO    := $(O)/bin/nsem-demo

.PHONY: all check check-valgrind demo install uninstall clean format
all: $(LIBSO) $(LIBA) $(NSEMD) $(NSEMCLI) $(DEMO)

# The compiled-in server path of an installed library; regenerated when PREFIX changes.
$(O)/config.h: FORCE
	@mkdir -p $(@D)
	@printf '#define NSEM_PREFIX_NSEMD "%s/bin/nsemd"\n' '$(PREFIX)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(O)/obj/%.o: %.c $(O)/config.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I$(O) -MMD -MP -c $< -o $@

$(LIBSO): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libnsem.so -Wl,-z,defs -o $@ $^ $(ALL_LDFLAGS)

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(NSEMD): $(SERVER_OBJ)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

$(NSEMCLI): $(O)/obj/tools/nsem.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

$(DEMO): $(O)/obj/tools/demo.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

# The test list is generated from the sources, so that no test can be forgotten.
$(O)/tests/test-list.h: $(TEST_SRC)
	@mkdir -p $(@D)
	@cat $(TEST_SRC) /dev/null | sed -n 's/^\(TEST\|HELPER\)(\([A-Za-z0-9_]*\)).*/\1_ENTRY(\2)/p' > $@.tmp
	@mv $@.tmp $@
$(O)/obj/tests/runner.o: $(O)/tests/test-list.h

# Unit tests of the server's parts (name resolution, frame checks) link its objects but main.c
# (tests/test-requests.c stands in for main.c's loop and log).
UNIT_SERVER_OBJ := $(filter-out $(O)/obj/src/server/main.o $(O)/obj/src/common/%,$(SERVER_OBJ))
$(TESTS): $(TEST_OBJ) $(LIBA) $(UNIT_SERVER_OBJ)
	@mkdir -p $(@D)
	$(CC) -o $@ $(TEST_OBJ) $(UNIT_SERVER_OBJ) $(LIBA) $(ALL_LDFLAGS)

# The install contract first, so that the runner's summary is the last line.
check: all $(TESTS)
	sh tests/install-check.sh $(O)
	$(TESTS)

# Every test process under valgrind (slow; not part of check). Helpers and nsemd run natively.
check-valgrind: all $(TESTS)
	NSEM_TEST_VALGRIND=1 NSEM_TEST_TIMEOUT_MS=180000 $(TESTS)

demo: all
	$(DEMO)

$(O)/nsem.pc: FORCE
	@mkdir -p $(@D)
	@printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: nsem\nDescription: Windows named semaphores, mutexes and events for Linux\nVersion: 0.1.0\nLibs: -L$${libdir} -lnsem\nLibs.private: -pthread\nCflags: -I$${includedir}\n' '$(PREFIX)' > $@

# The system server's unit, its ExecStart= pointing at this PREFIX's nsemd (contrib/nsemd.service
# names the default PREFIX).
$(O)/nsemd.service: contrib/nsemd.service FORCE
	@mkdir -p $(@D)
	@sed 's|^ExecStart=/usr/local/bin/nsemd |ExecStart=$(PREFIX)/bin/nsemd |' contrib/nsemd.service > $@

install: all $(O)/nsem.pc $(O)/nsemd.service
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/nsem.h $(DESTDIR)$(PREFIX)/include/nsem.h
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libnsem.so
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/libnsem.a
	install -m 644 $(O)/nsem.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/nsem.pc
	install -m 755 $(NSEMD) $(DESTDIR)$(PREFIX)/bin/nsemd
	install -m 755 $(NSEMCLI) $(DESTDIR)$(PREFIX)/bin/nsem
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 docs/man/nsem.1 $(DESTDIR)$(PREFIX)/share/man/man1/nsem.1
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 $(O)/nsemd.service $(DESTDIR)$(SYSTEMDUNITDIR)/nsemd.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/nsem.h $(DESTDIR)$(PREFIX)/lib/libnsem.so $(DESTDIR)$(PREFIX)/lib/libnsem.a \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/nsem.pc $(DESTDIR)$(PREFIX)/bin/nsemd $(DESTDIR)$(PREFIX)/bin/nsem \
	      $(DESTDIR)$(PREFIX)/share/man/man1/nsem.1 $(DESTDIR)$(SYSTEMDUNITDIR)/nsemd.service

format:
	clang-format -i include/*.h src/*/*.[ch] tests/*.[ch] tools/*.c

clean:
	rm -rf build build-san

# Benchmarks (make bench, make bench-run) are defined in bench/bench.mk.
-include bench/bench.mk
# The chaos run (make chaos; its 10-second version is part of check) is defined in tests/chaos/chaos.mk.
-include tests/chaos/chaos.mk

# Fuzzing (make fuzz, make fuzz-smoke; clang and libFuzzer) is defined in fuzz/fuzz.mk.
-include fuzz/fuzz.mk

# Fault injection (make faults, make faults-check) is defined in tests/faults/faults.mk.
-include tests/faults/faults.mk

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
