# SPDX-License-Identifier: GPL-2.0
# vmstate tests (host only) and the decoder's fuzzer.
VMSTATE_TEST_OBJS := $(call objs,user/vmstate/testdev.c) $(BUILD)/libtern-vmstate.a

VMSTATE_TESTS := vmstate_roundtrip_test
VMSTATE_TESTS += vmstate_version_test
VMSTATE_TESTS += vmstate_hostile_test
VMSTATE_TESTS += vmstate_filter_test

$(foreach t,$(VMSTATE_TESTS),$(eval $(BUILD)/selftests/tern/$(t): $(VMSTATE_TEST_OBJS)))
HOST_TESTS += $(patsubst %,$(BUILD)/selftests/tern/%,$(VMSTATE_TESTS))

