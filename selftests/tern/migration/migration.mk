# SPDX-License-Identifier: GPL-2.0
# Migration protocol tests on the host: two fake VMs in one process
# (selftests/tern/migration/mig_fakevm.c) over socketpairs, TCP and unix sockets.
MIG_TEST_OBJS := $(call objs,selftests/tern/migration/mig_fakevm.c selftests/tern/migration/mig_run.c)

$(BUILD)/selftests/tern/migration/migration_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
$(BUILD)/selftests/tern/migration/migration_fault_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
$(BUILD)/selftests/tern/migration/migration_stream_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
$(BUILD)/selftests/tern/migration/migration_zero_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
# Page-stream channels: counts, strays, cuts.
$(BUILD)/selftests/tern/migration/migration_channel_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
# The handshake through a vmstate registry's filters (renames, splits).
$(BUILD)/selftests/tern/migration/migration_compat_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a \
		$(BUILD)/libtern-vmstate.a
$(MIG_TEST_OBJS): | $(KSFT_HDRS)

HOST_TESTS += $(BUILD)/selftests/tern/migration/migration_test
HOST_TESTS += $(BUILD)/selftests/tern/migration/migration_fault_test
HOST_TESTS += $(BUILD)/selftests/tern/migration/migration_stream_test
HOST_TESTS += $(BUILD)/selftests/tern/migration/migration_zero_test
HOST_TESTS += $(BUILD)/selftests/tern/migration/migration_channel_test
HOST_TESTS += $(BUILD)/selftests/tern/migration/migration_compat_test

# The destination's receive path under libFuzzer; seeds recorded by
# migration_stream_test (TERN_MIG_CORPUS_DIR=selftests/tern/fuzz/corpus/mig_recv_fuzz).
# (user/migration/build.mk is read after this file: name its sources here.)
MIG_FUZZ_SRCS := selftests/tern/fuzz/mig_recv_fuzz.c selftests/tern/migration/mig_fakevm.c \
	$(wildcard user/migration/*.c) $(TERNLIB_SRCS)
$(BUILD)/fuzz/mig_recv_fuzz: $(call fuzz-objs,$(MIG_FUZZ_SRCS))
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
FUZZERS += $(BUILD)/fuzz/mig_recv_fuzz

# The same with extra channels given as fds (mig__incoming_fds); seeds
# recorded by migration_stream_test (TERN_MIG_CHAN_CORPUS_DIR=
# selftests/tern/fuzz/corpus/mig_chan_fuzz).
MIG_CHAN_FUZZ_SRCS := $(filter-out selftests/tern/fuzz/mig_recv_fuzz.c,$(MIG_FUZZ_SRCS)) \
	selftests/tern/fuzz/mig_chan_fuzz.c
$(BUILD)/fuzz/mig_chan_fuzz: $(call fuzz-objs,$(MIG_CHAN_FUZZ_SRCS))
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
FUZZERS += $(BUILD)/fuzz/mig_chan_fuzz

# The tern.ko path with the real module: runs in the harness VM.
$(BUILD)/selftests/tern/migration/migration_kmod_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
HARNESS_TESTS += $(BUILD)/selftests/tern/migration/migration_kmod_test

# TLS (issue 18): credentials made by tls_certs.sh (certtool); kernel TLS
# on loopback TCP, so in the harness (whose kernel loads `tls`).
TLS_CERTS := $(BUILD)/tls/good/ca-cert.pem
$(TLS_CERTS): selftests/tern/migration/tls_certs.sh
	selftests/tern/migration/tls_certs.sh $(BUILD)/tls
$(BUILD)/selftests/tern/migration/migration_tls_test.o: CPPFLAGS += -DTLS_CERTS='"$(BUILD)/tls"'
$(BUILD)/selftests/tern/migration/migration_tls_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a \
		| $(TLS_CERTS)
HARNESS_TESTS += $(BUILD)/selftests/tern/migration/migration_tls_test
HARNESS_FILES += $(BUILD)/tls:/usr/share/tern/tls
