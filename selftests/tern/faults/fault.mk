# SPDX-License-Identifier: GPL-2.0
# The fault campaign (issue 8): cuts, flips, stalls, kills and load on real
# ternvm migrations through tern-fault-proxy, in the harness VM.
$(BUILD)/selftests/tern/tern-fault-index: $(BUILD)/selftests/tern/faults/fault_index.o
	$(CC) $(LDFLAGS) -o $@ $^

# The test guest again, with memcheck in it.
VM_GUEST_MEMCHECK_IMG := build/guest/ternvm-guest-memcheck.cpio.gz
$(VM_GUEST_MEMCHECK_IMG): scripts/guest-image.sh $(BUILD)/guest/memcheck \
		selftests/tern/faults/fault_memcheck_bg.sh
	KVER=$(KVER) scripts/guest-image.sh $@ $(BUILD)/guest/memcheck:/bin/memcheck \
		selftests/tern/faults/fault_memcheck_bg.sh:/bin/memcheck-bg

# The campaign runs in every make check (its bounded sample; the issue's
# counts with TERN_CHECK_FULL=1), a smaller sample over TLS, another on a
# page-stream channel (fault_channel_test.sh), and the load test (~1
# min).  The
# kill test boots six guests (~5 min under TCG): TERN_CHECK_FULL=1 only.
FAULT_TESTS := campaign tls channel load
ifeq ($(TERN_CHECK_FULL),1)
FAULT_TESTS += kill
endif
$(BUILD)/selftests/tern/faults/fault_%_test.sh: selftests/tern/faults/fault_%_test.sh \
		$(VM_GUEST_MEMCHECK_IMG) $(BUILD)/ternvm $(BUILD)/ternctl \
		$(BUILD)/selftests/tern/faults/tern-fault-proxy \
		$(BUILD)/selftests/tern/tern-fault-index
	@mkdir -p $(@D)
	cp $< $@

HARNESS_FILES += $(VM_GUEST_MEMCHECK_IMG):/guest/initrd-memcheck.gz
HARNESS_FILES += $(BUILD)/selftests/tern/faults/tern-fault-proxy:/usr/bin/tern-fault-proxy
HARNESS_FILES += $(BUILD)/selftests/tern/tern-fault-index:/usr/bin/tern-fault-index
# The campaign over TLS (fault_tls_test.sh runs fault_campaign_test.sh).
HARNESS_FILES += selftests/tern/faults/fault_campaign_test.sh:/usr/share/tern/fault_campaign_test.sh
$(BUILD)/selftests/tern/faults/fault_tls_test.sh: $(BUILD)/tls/good/ca-cert.pem
FAULT_SCRIPTS := $(patsubst %,$(BUILD)/selftests/tern/faults/fault_%_test.sh,campaign tls channel kill load)
user: $(FAULT_SCRIPTS)
LINUX_GUEST_TESTS_LAST += $(patsubst %,$(BUILD)/selftests/tern/faults/fault_%_test.sh,$(FAULT_TESTS))

# A long stop stops the guest's clock too (the campaign's "source counter
# stuck" after a stall in switchover): the memcheck guest.
$(BUILD)/selftests/tern/vm/vm_stop_clock_test.sh: $(VM_GUEST_MEMCHECK_IMG)
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/vm/vm_stop_clock_test.sh

# The fault proxy for the fault campaign (issue 8), and its own test.
$(BUILD)/selftests/tern/faults/tern-fault-proxy: $(BUILD)/selftests/tern/faults/fault_proxy.o
	$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/selftests/tern/faults/fault_proxy_test: | $(BUILD)/selftests/tern/faults/tern-fault-proxy
HOST_TESTS += $(BUILD)/selftests/tern/faults/fault_proxy_test
