# SPDX-License-Identifier: GPL-2.0
# bench/track_bench: tern.ko's tracking costs per page (write-notify fault,
# harvest re-arm, stream read/splice), run in the harness by `make bench`.
$(BUILD)/bench/track_bench: $(call objs,bench/track_bench.c)
	$(CC) $(LDFLAGS) -o $@ $^
HARNESS_BENCHES += $(BUILD)/bench/track_bench

# bench/track_kvm_bench: the same for a KVM guest's writes, tern against
# KVM's dirty log and no tracking, at several guest sizes (issue 9, item 1).
$(BUILD)/bench/track_kvm_bench: $(call objs,bench/track_kvm_bench.c)
	$(CC) $(LDFLAGS) -o $@ $^
HARNESS_BENCHES += $(BUILD)/bench/track_kvm_bench
