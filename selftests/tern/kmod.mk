# SPDX-License-Identifier: GPL-2.0
# tern.ko's tests (issue 4): one program per feature, run in the harness VM.
$(BUILD)/libtern-selftest.a: $(call objs,selftests/tern/lib/tern_util.c)

KMOD_TESTS := region track track_kvm stream netlink lifetime
HARNESS_TESTS += $(patsubst %,$(BUILD)/selftests/tern/%_test,$(KMOD_TESTS))
