# tests/chaos/chaos.mk — the chaos run of issue 7, included by the top Makefile.
#
#   make chaos        builds $(O)/tests/chaos and runs the full version: 200 processes for 60 s
#                     against a private server (CHAOS_ARGS adds or overrides options, e.g.
#                     CHAOS_ARGS='--seed 42 --verbose'); exits non-zero on any violated invariant.
#   make check        runs a 10-second version (tests/test-chaos.c).
# What it checks and the results: docs/reliability.md, "Chaos".

CHAOS_SRC  := $(wildcard tests/chaos/*.c)
CHAOS_OBJ  := $(CHAOS_SRC:%.c=$(O)/obj/%.o)
CHAOS      := $(O)/tests/chaos
CHAOS_ARGS ?=

.PHONY: chaos
$(CHAOS): $(CHAOS_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $(CHAOS_OBJ) $(LIBA) $(ALL_LDFLAGS) -lm

# nsemd is found next to the program, as <dir>/../bin/nsemd.
chaos: $(CHAOS) $(NSEMD)
	$(CHAOS) --workers 200 --duration 60 $(CHAOS_ARGS)

# The 10-second version in make check (and check-valgrind) runs this binary.
check check-valgrind: $(CHAOS)
