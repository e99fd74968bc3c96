# SPDX-License-Identifier: GPL-2.0
# bench/migrate_bench: ternvm and QEMU live-migrating the same guest in the
# harness VM (issue 9, item 3).  The script carries its payload (QEMU 10,
# the reference, and Debian 12's QEMU 7.2 with their firmware, ternvm,
# ternctl, the guest) appended, since `make bench` hands the harness
# programs only.  Built by `make bench`, never by check.
MB_DIR := $(BUILD)/bench/migrate
MB_QEMU := /usr/bin/qemu-system-x86_64
# The reference (DESIGN.md): Debian 13's QEMU 10, made once and kept.
MB_QEMU10 := $(BUILD)/qemu10

$(MB_QEMU10)/qemu-system-x86_64.sh: scripts/qemu10.sh
	scripts/deps.sh bench
	scripts/qemu10.sh $(MB_QEMU10)

$(MB_DIR)/migrate_guest: bench/migrate_guest.c
	@mkdir -p $(@D)
	gcc -static -O2 -Wall -Wextra -Werror -o $@ $<

$(MB_DIR)/migrate_stamp: bench/migrate_stamp.c
	@mkdir -p $(@D)
	$(CC) $(filter-out -fsanitize=%,$(CPPFLAGS) $(CFLAGS)) -static -o $@ $<

$(MB_DIR)/initrd.gz: scripts/guest-image.sh $(MB_DIR)/migrate_guest
	KVER=$(KVER) scripts/guest-image.sh $@ $(MB_DIR)/migrate_guest:/bin/migrate_guest

$(MB_DIR)/payload.tar.gz: scripts/qemu-bench-payload.sh $(MB_DIR)/initrd.gz \
		$(MB_DIR)/migrate_stamp $(BUILD)/ternvm $(BUILD)/ternctl \
		$(BUILD)/selftests/tern/tern-udp-flow $(MB_QEMU10)/qemu-system-x86_64.sh
	scripts/qemu-bench-payload.sh $@ \
		$(MB_QEMU10):/opt/qemu10 \
		$(MB_QEMU):$(MB_QEMU) /usr/share/qemu:/usr/share/qemu \
		/usr/share/seabios:/usr/share/seabios \
		/boot/vmlinuz-$(KVER):/opt/migrate-bench/bzImage \
		$(MB_DIR)/initrd.gz:/opt/migrate-bench/initrd.gz \
		$(MB_DIR)/migrate_stamp:/opt/migrate-bench/migrate_stamp \
		$(BUILD)/ternvm:/opt/migrate-bench/ternvm \
		$(BUILD)/ternctl:/opt/migrate-bench/ternctl \
		$(BUILD)/selftests/tern/tern-udp-flow:/opt/migrate-bench/tern-udp-flow

$(BUILD)/bench/migrate_bench: bench/migrate_bench.sh $(MB_DIR)/payload.tar.gz
	sed "s/@PAYLOAD_BYTES@/$$(stat -c %s $(MB_DIR)/payload.tar.gz)/" $< >$@.tmp
	cat $(MB_DIR)/payload.tar.gz >>$@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

HARNESS_BENCHES += $(BUILD)/bench/migrate_bench

# Item 4, the sweep: the same script in its scale mode.
$(BUILD)/bench/migrate_scale_bench: bench/migrate_scale_bench.sh $(BUILD)/bench/migrate_bench
	cp $< $@
	chmod +x $@
HARNESS_BENCHES += $(BUILD)/bench/migrate_scale_bench

# Issue 15: the same guest bare and with every device.
$(BUILD)/bench/migrate_devices_bench: bench/migrate_devices_bench.sh $(BUILD)/bench/migrate_bench
	cp $< $@
	chmod +x $@
HARNESS_BENCHES += $(BUILD)/bench/migrate_devices_bench
