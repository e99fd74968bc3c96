# SPDX-License-Identifier: GPL-2.0
# Migration protocol tests on the host: two fake VMs in one process
# (selftests/tern/mig_fakevm.c) over socketpairs, TCP and unix sockets.
MIG_TEST_OBJS := $(call objs,selftests/tern/mig_fakevm.c selftests/tern/mig_run.c)

$(BUILD)/selftests/tern/migration_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
$(BUILD)/selftests/tern/migration_fault_test: $(MIG_TEST_OBJS) $(BUILD)/libtern-migration.a
$(MIG_TEST_OBJS): | $(KSFT_HDRS)

HOST_TESTS += $(BUILD)/selftests/tern/migration_test
HOST_TESTS += $(BUILD)/selftests/tern/migration_fault_test
