# Fault injection (tests/faults/): a faulty nsemd and a faulty client, linked from the normal
# objects with --wrap so that src/ is unchanged, under $(O)/faults/. Not part of all or check.
#   make faults O=...          builds them;
#   make faults-check O=...    walks every call site of the scenario (tests/faults/run.sh);
#   FAULTS_MAX=N               at most N call indices per function and errno (evenly spaced);
#   SANITIZE=1 O=build-faults-san as well, to catch memory errors on the failure paths.

# The wrapped functions (tests/faults/faultinj.c; syscall carries its pidfd_open and futex_wait).
FAULT_FUNCS := malloc calloc realloc open socket connect accept4 recv recvmsg send sendmsg mmap ftruncate \
               memfd_create epoll_ctl fstat epoll_create1 epoll_wait epoll_pwait flock read write pread pwrite fopen poll \
               getrandom fork bind syscall
FAULT_WRAP  := $(foreach f,$(FAULT_FUNCS),-Wl,--wrap=$(f))
FAULT_DIR   := $(O)/faults
FAULTS_MAX  ?= 25

.PHONY: faults faults-check
faults: $(FAULT_DIR)/bin/nsemd $(FAULT_DIR)/bin/scenario $(FAULT_DIR)/bin/clean

# One object per side: each reads its own variable (a client's is inherited by the server it starts).
$(FAULT_DIR)/obj/faultinj-server.o: tests/faults/faultinj.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DFAULT_ENV='"NSEMD_FAULT"' -c $< -o $@
$(FAULT_DIR)/obj/faultinj-lib.o: tests/faults/faultinj.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DFAULT_ENV='"NSEM_FAULT"' -c $< -o $@

$(FAULT_DIR)/bin/nsemd: $(SERVER_OBJ) $(FAULT_DIR)/obj/faultinj-server.o
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(FAULT_WRAP) $(ALL_LDFLAGS)

# The faulty library is one relocatable object, wrapped in itself: the scenario's own calls (its
# fork, its pipes) are left alone, only the library's fail.
$(FAULT_DIR)/obj/libnsem-faulty.o: $(LIB_OBJ) $(FAULT_DIR)/obj/faultinj-lib.o
	@mkdir -p $(@D)
	$(CC) -r -nostdlib -o $@ $^ $(FAULT_WRAP)

# The scenario finds its server as any program does: <its directory>/../bin/nsemd, the faulty one.
$(FAULT_DIR)/bin/scenario: $(O)/obj/tests/faults/scenario.o $(FAULT_DIR)/obj/libnsem-faulty.o
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -ldl $(ALL_LDFLAGS)

$(FAULT_DIR)/bin/clean: $(O)/obj/tests/faults/clean.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

faults-check: faults
	FAULTS_MAX=$(FAULTS_MAX) sh tests/faults/run.sh $(FAULT_DIR)
