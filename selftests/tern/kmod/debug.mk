# SPDX-License-Identifier: GPL-2.0
# `make check-debug` (scripts/check-debug.sh): what runs on the debug
# kernel.  Every test of tern.ko itself, the migrations that move pages
# through it (migrate_content_test moves a Linux guest over tern.ko's page
# stream; vm_migrate_test is left out: its tern half is the same path and
# it took 8 of the 24 minutes of a stand-in run), and the fault-injection
# test, which needs the debug kernel's failslab and fail_page_alloc and so
# is not in `make check`.
#
# The fault-injection test runs unsanitized: ASan maps its heap as it
# grows, and fail-nth, which counts every allocation the thread makes in
# the kernel, then failed the test's own mmap inside libnl instead of the
# module's allocation.
FAILINJECT_TEST := build/selftests/tern/kmod/failinject_test
DEBUG_KERNEL_TESTS = $(BUILD)/selftests/tern/kmod/module_test \
	$(patsubst %,$(BUILD)/selftests/tern/kmod/%_test,$(KMOD_TESTS)) \
	$(FAILINJECT_TEST) \
	$(BUILD)/selftests/tern/migration/migration_kmod_test \
	$(BUILD)/selftests/tern/migration/migrate_content_test.sh
$(BUILD)/selftests/tern/kmod/failinject_test.o: | $(KSFT_HDRS)
ifneq ($(BUILD),build)
$(FAILINJECT_TEST): FORCE
	@$(MAKE) --no-print-directory SANITIZE=0 BUILD=build $@
endif
