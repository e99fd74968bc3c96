# SPDX-License-Identifier: GPL-2.0
# bench/stream_bench: loopback stream references (write, sendfile, splice,
# userspace VMM path).  `make bench` runs it; never part of `make check`.
BENCHES += $(BUILD)/bench/stream_bench	# references only: no tern.ko on the host
$(BUILD)/bench/stream_bench: $(call objs,bench/stream_bench.c)
	$(CC) $(LDFLAGS) -o $@ $^ -lgnutls -lpthread
HARNESS_BENCHES += $(BUILD)/bench/stream_bench
