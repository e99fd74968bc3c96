# SPDX-License-Identifier: GPL-2.0
# tern.ko's tests (issue 4): one program per feature, run in the harness VM.
$(BUILD)/libtern-selftest.a: $(call objs,selftests/tern/lib/tern_util.c)

KMOD_TESTS := region track track_kvm track_exact track_views stream stream_set netlink shared_host lifetime uapi_size
HARNESS_TESTS += $(patsubst %,$(BUILD)/selftests/tern/kmod/%_test,$(KMOD_TESTS))

# The module again, built with DEBUG in its own tree, so that lifetime_test
# loads it in the harness and its boot-time self-tests (kmod/selftest/) run
# in every `make check`.  Sources only are copied: no stale objects.
KMOD_DEBUG	:= build/kmod-debug
KMOD_DEBUG_SRCS	:= $(wildcard kmod/*.[ch] kmod/selftest/*.[ch]) kmod/Kbuild \
		   include/uapi/linux/tern.h VERSION
ifneq ($(wildcard $(KDIR)/Makefile),)
$(KMOD_DEBUG)/kmod/tern.ko: $(filter-out %.mod.c,$(KMOD_DEBUG_SRCS))
	@rm -rf $(KMOD_DEBUG)
	@mkdir -p $(KMOD_DEBUG)/kmod/selftest $(KMOD_DEBUG)/include/uapi/linux
	@for f in $^; do cp $$f $(KMOD_DEBUG)/$$f; done
	@echo 'obj-m += kmod/' >$(KMOD_DEBUG)/Kbuild
	$(MAKE) -s -C $(KDIR) M=$(CURDIR)/$(KMOD_DEBUG) CONFIG_TERN_DEBUG=y modules
HARNESS_FILES += $(KMOD_DEBUG)/kmod/tern.ko:/tern-debug.ko
$(BUILD)/selftests/tern/kmod/lifetime_test: | $(KMOD_DEBUG)/kmod/tern.ko
endif
