# SPDX-License-Identifier: GPL-2.0
# vmstate tests (host only) and the decoder's fuzzer.
VMSTATE_TEST_OBJS := $(call objs,user/vmstate/testdev.c) $(BUILD)/libtern-vmstate.a

VMSTATE_TESTS := vmstate_roundtrip_test
VMSTATE_TESTS += vmstate_version_test
VMSTATE_TESTS += vmstate_hostile_test
VMSTATE_TESTS += vmstate_filter_test

$(foreach t,$(VMSTATE_TESTS),$(eval $(BUILD)/selftests/tern/vmstate/$(t): $(VMSTATE_TEST_OBJS)))
HOST_TESTS += $(patsubst %,$(BUILD)/selftests/tern/vmstate/%,$(VMSTATE_TESTS))


# The fuzzer includes the real decoder, loader, filters, JSON and test device.
# (user/vmstate/build.mk is read after this file: list the sources here.)
VMSTATE_FUZZ_SRCS := selftests/tern/fuzz/vmstate_decode_fuzz.c user/lib/log.c \
	$(filter-out user/vmstate/dump.c,$(wildcard user/vmstate/*.c))
$(BUILD)/fuzz/vmstate_decode_fuzz: $(call fuzz-objs,$(VMSTATE_FUZZ_SRCS))
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
FUZZERS += $(BUILD)/fuzz/vmstate_decode_fuzz

# Every device table against the committed snapshot and the releases'
# (Documentation/vmstate-format.rst, "Compatibility").
$(BUILD)/selftests/tern/vmstate/vmstate_devices_test.sh: selftests/tern/vmstate/vmstate_devices_test.sh \
		$(BUILD)/selftests/tern/host_lib.sh $(BUILD)/tern-device-tables scripts/vmstate-tables.awk releases \
		Documentation/vmstate-devices.txt
	@mkdir -p $(@D)
	cp $< $@
HOST_TESTS += $(BUILD)/selftests/tern/vmstate/vmstate_devices_test.sh

# After a deliberate table change (a version bump or a new subsection):
# regenerate the snapshot and commit it with the change.
vmstate-devices: $(BUILD)/tern-device-tables
	$(BUILD)/tern-device-tables >Documentation/vmstate-devices.txt
.PHONY: vmstate-devices
