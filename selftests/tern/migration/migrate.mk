# SPDX-License-Identifier: GPL-2.0
# Live migration between two ternvms in the harness VM: the guest image
# carries memcheck, diskcheck and netcheck (the memory, disk and received
# data oracles) and rebind
# (a driver unbind/bind loop), the fault proxy steers the cancel/kill
# cases.  Shares vm.mk's ternvm, ternctl, bzImage, lib/vm.sh
# and tern-json.
MIG_GUEST_IMG := $(BUILD)/guest/ternvm-migguest.cpio.gz

$(MIG_GUEST_IMG): scripts/guest-image.sh $(BUILD)/guest/memcheck $(BUILD)/guest/diskcheck \
		$(BUILD)/guest/netcheck selftests/tern/guest/rebind.sh
	KVER=$(KVER) scripts/guest-image.sh $@ $(BUILD)/guest/memcheck:/bin/memcheck \
		$(BUILD)/guest/diskcheck:/bin/diskcheck $(BUILD)/guest/netcheck:/bin/netcheck \
		selftests/tern/guest/rebind.sh:/bin/rebind

$(BUILD)/selftests/tern/migration/migrate_%.sh: selftests/tern/migration/migrate_%.sh $(MIG_GUEST_IMG) \
		$(BUILD)/ternvm $(BUILD)/ternctl $(BUILD)/selftests/tern/faults/tern-fault-proxy \
		$(BUILD)/selftests/tern/tern-json
	@mkdir -p $(@D)
	cp $< $@

HARNESS_FILES += $(MIG_GUEST_IMG):/guest/mig-initrd.gz
HARNESS_FILES += $(BUILD)/selftests/tern/faults/tern-fault-proxy:/usr/bin/tern-fault-proxy

LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_content_test.sh
# Its destinations made different by the migration's test hooks
# (ternvm-test, test_hooks.h).
$(BUILD)/selftests/tern/migration/migrate_refuse_test.sh: $(BUILD)/ternvm-test
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_refuse_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_cancel_test.sh
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_converge_test.sh
# The disk image's lock, the NIC's announce and a guest's ping across a
# migration (issue 15); tern-tap-sniff sees the announce on a tap.
$(BUILD)/selftests/tern/tern-tap-sniff: $(BUILD)/selftests/tern/migration/tap_sniff.o
	$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/selftests/tern/migration/migrate_disk_test.sh: $(BUILD)/selftests/tern/tern-tap-sniff
HARNESS_FILES += $(BUILD)/selftests/tern/tern-tap-sniff:/usr/bin/tern-tap-sniff
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_disk_test.sh

# A guest receiving a steady flow over vhost-net (issue 17), on both
# trackers: tern-udp-flow sends, netcheck in the guest checks each
# datagram.
$(BUILD)/selftests/tern/tern-udp-flow: $(BUILD)/selftests/tern/migration/udp_flow.o
	$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/selftests/tern/migration/migrate_vhost_test.sh: $(BUILD)/selftests/tern/tern-udp-flow \
		$(BUILD)/ternvm-test
HARNESS_FILES += $(BUILD)/selftests/tern/tern-udp-flow:/usr/bin/tern-udp-flow
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_vhost_test.sh

# --mem-prealloc on a destination (issue 17): RAM allocated whole at
# start, a file's contents kept, a full file system refused.
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_prealloc_test.sh

# Management revert, restore failure, cancel during connect, power-off
# during a migration (issue 15); its restore-failure destination is the
# test build with fault hooks.
$(BUILD)/selftests/tern/migration/migrate_revert_test.sh: $(BUILD)/ternvm-test
HARNESS_FILES += $(BUILD)/ternvm-test:/usr/bin/ternvm-test
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_revert_test.sh

# Inconvenient points, each migrated several times in a row (issue 15): a
# reboot loop, power-off in pre-copy, a driver rebind loop, virtio-blk
# requests queued at switchover (ternvm-test's one-request hook).
$(BUILD)/selftests/tern/migration/migrate_inconv_test.sh: $(BUILD)/ternvm-test
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_inconv_test.sh

# A busy guest over TLS with kernel TLS under tern.ko's stream (issue 18);
# the credentials come with migration_tls_test (migration.mk).
$(BUILD)/selftests/tern/migration/migrate_tls_test.sh: $(BUILD)/tls/good/ca-cert.pem
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/migrate_tls_test.sh
