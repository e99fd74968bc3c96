# SPDX-License-Identifier: GPL-2.0
# ternvm and ternctl tests.  The shell tests run in the harness VM with
# ternvm, ternctl, the Debian bzImage and the test guest's initramfs
# copied in (HARNESS_FILES); their build copies depend on all of these.
VM_GUEST_IMG := build/guest/ternvm-guest.cpio.gz

$(VM_GUEST_IMG): scripts/guest-image.sh
	KVER=$(KVER) scripts/guest-image.sh $@

$(BUILD)/selftests/tern/vm/vm_%.sh: selftests/tern/vm/vm_%.sh $(VM_GUEST_IMG) \
		$(BUILD)/ternvm $(BUILD)/ternctl $(BUILD)/selftests/tern/tern-json
	@mkdir -p $(@D)
	cp $< $@

HARNESS_FILES += $(BUILD)/ternvm:/usr/bin/ternvm
HARNESS_FILES += $(BUILD)/ternctl:/usr/bin/ternctl
HARNESS_FILES += selftests/tern/lib/vm.sh:/usr/share/tern/vm.sh
# The shell tests' JSON reader (json-c; the harness has no jq).
$(BUILD)/selftests/tern/tern-json: $(call objs,selftests/tern/lib/json_get.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
HARNESS_FILES += $(BUILD)/selftests/tern/tern-json:/usr/bin/tern-json
HARNESS_FILES += /boot/vmlinuz-$(KVER):/guest/bzImage
HARNESS_FILES += $(VM_GUEST_IMG):/guest/initrd.gz

# A guest that only reboots (vm_reset_test.sh), made from the bzImage's header.
VM_RESET_KERNEL := build/guest/reset-bz
$(VM_RESET_KERNEL): selftests/tern/guest/reset-kernel.sh /boot/vmlinuz-$(KVER)
	@mkdir -p $(@D)
	selftests/tern/guest/reset-kernel.sh /boot/vmlinuz-$(KVER) $@
$(BUILD)/selftests/tern/vm/vm_reset_test.sh: $(VM_RESET_KERNEL)
HARNESS_FILES += $(VM_RESET_KERNEL):/guest/reset-bz

HOST_TESTS += $(BUILD)/selftests/tern/vm/vm_args_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_boot_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_stopcont_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_control_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_state_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_migrate_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_reset_test.sh
# A console reader that stops reading (issue 18): tern-unix-hold holds the
# console socket without reading.
$(BUILD)/selftests/tern/tern-unix-hold: $(BUILD)/selftests/tern/vm/unix_hold.o
	$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/selftests/tern/vm/vm_console_test.sh: $(BUILD)/selftests/tern/tern-unix-hold
HARNESS_FILES += $(BUILD)/selftests/tern/tern-unix-hold:/usr/bin/tern-unix-hold
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_console_test.sh
# The seccomp sandbox: its forbidden-call hook is ternvm-test's.
$(BUILD)/selftests/tern/vm/vm_sandbox_test.sh: $(BUILD)/ternvm-test
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_sandbox_test.sh

# C device tests: a VM made in the test process by vm__create (no kernel),
# its devices driven through the dispatcher (lib/vm_util.c).  On the host
# it stands on the fake KVM (lib/fake_kvm.c: open and ioctl wrapped), in
# the harness on KVM.  The whole VM archive: the devices are only reached
# through their constructors.
FAKE_KVM_LDFLAGS := -Wl,--wrap=open,--wrap=ioctl
# vm_device_test: every device; vm_virtio_state_test: virtio's two state
# sections, and release 0.1.0's one loading here.
VM_C_TESTS := $(patsubst %,$(BUILD)/selftests/tern/vm/%,vm_device_test vm_virtio_state_test)
$(BUILD)/selftests/tern/vm/vm_device_test: $(call objs,user/vmstate/testdev.c)
$(VM_C_TESTS): %: %.o \
		$(call objs,selftests/tern/lib/vm_util.c selftests/tern/lib/fake_kvm.c) \
		$(BUILD)/libtern-vm.a $(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a \
		$(BUILD)/libtern-selftest.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) $(FAKE_KVM_LDFLAGS) -o $@ $(filter %.o,$^) \
		-Wl,--whole-archive $(BUILD)/libtern-vm.a -Wl,--no-whole-archive \
		$(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a \
		$(BUILD)/libtern-selftest.a $(BUILD)/libtern-lib.a $(LDLIBS)
HOST_TESTS += $(VM_C_TESTS)
HARNESS_TESTS += $(VM_C_TESTS)

# Fuzzer: the control socket's request path (json_line + control_cmd).
VM_FUZZ_SRCS := selftests/tern/fuzz/vm_control_json.c user/vm/control_cmd.c user/vm/device.c \
	user/lib/json_line.c user/lib/version.c
$(BUILD)/fuzz-obj/user/lib/version.o: $(TERN_VERSION_H)
$(BUILD)/fuzz-obj/user/lib/version.o: CPPFLAGS += -I$(BUILD)/gen
$(BUILD)/fuzz/vm_control_json: $(call fuzz-objs,$(VM_FUZZ_SRCS))
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
FUZZERS += $(BUILD)/fuzz/vm_control_json

# Fuzzer: the split-virtqueue parser over guest-controlled rings.
VM_VQ_FUZZ_SRCS := selftests/tern/fuzz/vm_virtqueue.c user/vm/virtqueue.c user/lib/log.c
$(BUILD)/fuzz/vm_virtqueue: $(call fuzz-objs,$(VM_VQ_FUZZ_SRCS))
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)
FUZZERS += $(BUILD)/fuzz/vm_virtqueue
