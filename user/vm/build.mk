# SPDX-License-Identifier: GPL-2.0
# user/vm: ternvm.  Devices register themselves (init.h): adding one is a
# file in devices/ and a line here.  Link order = init order within a level
# (exits run in reverse): migrate.c comes before control*.c so an incoming
# migration listens before the control socket appears; control.c ends one
# level later than it starts, so at exit a migration ends (a power-off
# fails it) while the control socket can still tell its clients.
VM_SRCS := \
	user/vm/vm.c user/vm/init.c user/vm/kvm.c user/vm/iotrap.c user/vm/irq.c \
	user/vm/ioloop.c user/vm/mem.c user/vm/mem_prealloc.c user/vm/vcpu.c user/vm/vcpu_state.c user/vm/reset.c user/vm/device.c \
	user/vm/console.c user/vm/acpi.c user/vm/boot.c user/vm/image_lock.c \
	user/vm/migrate.c user/vm/migrate_thread.c user/vm/migrate_cmd.c \
	user/vm/throttle.c user/vm/control_cmd.c user/vm/control.c user/vm/state.c \
	user/vm/sandbox.c \
	user/vm/devices/pci.c \
	user/vm/devices/serial.c \
	user/vm/devices/rtc.c \
	user/vm/devices/i8042.c \
	user/vm/devices/acpi-pm.c \
	user/vm/virtqueue.c \
	user/vm/devices/virtio-pci.c user/vm/virtio_state.c \
	user/vm/devices/virtio-blk.c \
	user/vm/devices/virtio-net.c user/vm/devices/vhost-net.c \
	user/vm/devices/virtio-console.c \
	user/vm/devices/virtio-rng.c

$(BUILD)/libtern-vm.a: $(call objs,$(VM_SRCS))
	@rm -f $@
	ar rcs $@ $^

# Whole archive: the devices are only reached through their constructors.
$(BUILD)/ternvm: $(call objs,user/vm/main.c) $(BUILD)/libtern-vm.a \
		$(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--whole-archive $(BUILD)/libtern-vm.a \
		-Wl,--no-whole-archive $(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a \
		$(BUILD)/libtern-lib.a $(LDLIBS)

PROGS += $(BUILD)/ternvm

# ternvm-test: ternvm with the fault hooks of user/vm/test_hooks.h, for
# the tests only (never in PROGS, never installed).  Only the files that
# hold a hook are built twice.
VM_HOOKED_SRCS := user/vm/vcpu_state.c user/vm/devices/virtio-blk.c user/vm/migrate.c \
	user/vm/devices/vhost-net.c user/vm/vcpu.c user/vm/sandbox.c
$(BUILD)/test-hooks/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DTERN_TEST_HOOKS $(CFLAGS) -MMD -MP -c -o $@ $<

TERNVM_TEST_OBJS := $(foreach s,$(VM_SRCS),$(if $(filter $(s),$(VM_HOOKED_SRCS)),\
	$(BUILD)/test-hooks/$(s:.c=.o),$(call objs,$(s)))) \
	$(BUILD)/test-hooks/user/vm/test_hooks.o

$(BUILD)/ternvm-test: $(call objs,user/vm/main.c) $(TERNVM_TEST_OBJS) \
		$(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# tern-device-tables: the devices' state tables, printed without a VM
# (the snapshot Documentation/vmstate-devices.txt).  A build tool, not
# installed; the whole VM archive, since the tables are declared by the
# devices' constructors.
$(BUILD)/tern-device-tables: $(call objs,user/vm/device_tables.c) $(BUILD)/libtern-vm.a \
		$(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--whole-archive $(BUILD)/libtern-vm.a \
		-Wl,--no-whole-archive $(BUILD)/libtern-migration.a $(BUILD)/libtern-vmstate.a \
		$(BUILD)/libtern-lib.a $(LDLIBS)
