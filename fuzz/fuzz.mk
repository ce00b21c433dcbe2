# fuzz/fuzz.mk — coverage-guided fuzzing with clang's libFuzzer (issue 7), included by the top
# Makefile. Never part of `make check`, which needs neither clang nor libFuzzer.
#
#   make fuzz          checks the toolchain (installs clang's fuzzer runtime when root and it is
#                      missing) and builds every harness into $(O)/fuzz/
#   make fuzz-smoke    runs each harness FUZZ_TIME seconds (60) over a copy of its seed corpus;
#                      prints executions and crashes per harness; fails on any crash
#   make fuzz-seeds    regenerates the seed corpus in tests/fuzz/ (fuzz/gen_seeds.c)
#
# A harness NAME is fuzz/NAME.c, built with the sources listed on its line below into
# $(O)/fuzz/fuzz-NAME, and seeded from tests/fuzz/fuzz-NAME/. Adding one is one line.

FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_ARGS  ?=
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -pthread -Iinclude -Isrc -I. $(WARN) -g -O1 -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
FUZZ_SERVER_SRC := $(filter-out src/server/main.c,$(SERVER_SRC))

FUZZ_HARNESSES :=
# $(call fuzz_harness,NAME,SOURCES): a harness fuzz/NAME.c linked with SOURCES.
define fuzz_harness
FUZZ_HARNESSES += $(1)
$(O)/fuzz/fuzz-$(1): $(O)/fuzz/obj/fuzz/$(1).o $(2:%.c=$(O)/fuzz/obj/%.o) | $(O)/fuzz/toolchain-ok
	$$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -pthread -o $$@ $$^
$(O)/fuzz/obj/fuzz/$(1).o: fuzz/$(1).c | $(O)/fuzz/toolchain-ok
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP -c $$< -o $$@
endef

$(eval $(call fuzz_harness,requests,$(FUZZ_SERVER_SRC) fuzz/server_env.c))
$(eval $(call fuzz_harness,names,src/server/resolve.c src/lib/names.c))
$(eval $(call fuzz_harness,sddl,$(COMMON_SRC)))

FUZZ_BINS := $(FUZZ_HARNESSES:%=$(O)/fuzz/fuzz-%)

# A harness is built with the fuzzer (above), the code under test with its coverage only, and the
# harness's helpers (fuzz/*.c) without coverage, so that they do not steer the fuzzer.
$(O)/fuzz/obj/fuzz/%.o: fuzz/%.c | $(O)/fuzz/toolchain-ok
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=address,undefined -MMD -MP -c $< -o $@
$(O)/fuzz/obj/src/%.o: src/%.c $(O)/config.h fuzz/coverage-ignore.txt | $(O)/fuzz/toolchain-ok
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(O) -fsanitize=fuzzer-no-link,address,undefined \
		-fsanitize-coverage-ignorelist=fuzz/coverage-ignore.txt -MMD -MP -c $< -o $@

$(O)/fuzz/toolchain-ok:
	@sh fuzz/toolchain.sh '$(FUZZ_CC)'
	@mkdir -p $(@D) && touch $@

.PHONY: fuzz fuzz-smoke fuzz-seeds
fuzz: $(FUZZ_BINS)

fuzz-smoke: fuzz
	@sh fuzz/smoke.sh '$(O)' '$(FUZZ_TIME)' '$(FUZZ_ARGS)' $(FUZZ_HARNESSES:%=fuzz-%)

$(O)/fuzz/gen-seeds: fuzz/gen_seeds.c fuzz/requests_input.h src/common/protocol.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I. -o $@ fuzz/gen_seeds.c
fuzz-seeds: $(O)/fuzz/gen-seeds
	$(O)/fuzz/gen-seeds tests/fuzz
-include $(shell find $(O)/fuzz/obj -name '*.d' 2>/dev/null)
