# SPDX-License-Identifier: GPL-2.0
# bench/stream_bench: loopback stream references (write, sendfile, splice,
# userspace VMM path).  `make bench` runs it; never part of `make check`.
BENCHES += $(BUILD)/bench/stream_bench	# references only: no tern.ko on the host
$(BUILD)/bench/stream_bench: $(call objs,bench/stream_bench.c)
	$(CC) $(LDFLAGS) -o $@ $^ -lgnutls -lpthread
HARNESS_BENCHES += $(BUILD)/bench/stream_bench

# bench/disk_bench: virtio-blk's worker thread against io_uring on the
# same image and requests (issue 18, item 4); on the host and in the
# harness (Debian's 6.1, the kernel a user runs).
BENCHES += $(BUILD)/bench/disk_bench
$(BUILD)/bench/disk_bench: $(call objs,bench/disk_bench.c)
	$(CC) $(LDFLAGS) -o $@ $^ -luring -lpthread
HARNESS_BENCHES += $(BUILD)/bench/disk_bench
