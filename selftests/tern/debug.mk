# SPDX-License-Identifier: GPL-2.0
# `make check-debug` (scripts/check-debug.sh): what runs on the debug
# kernel.  Every test of tern.ko itself, the migrations that move pages
# through it (migrate_content_test moves a Linux guest over tern.ko's page
# stream; vm_migrate_test is left out: its tern half is the same path and
# it took 8 of the 24 minutes of a stand-in run), and the fault-injection
# test, which needs the debug kernel's failslab and fail_page_alloc and so
# is not in `make check`.
DEBUG_KERNEL_TESTS = $(BUILD)/selftests/tern/module_test \
	$(patsubst %,$(BUILD)/selftests/tern/%_test,$(KMOD_TESTS)) \
	$(BUILD)/selftests/tern/failinject_test \
	$(BUILD)/selftests/tern/migration_kmod_test \
	$(BUILD)/selftests/tern/migrate_content_test.sh
$(BUILD)/selftests/tern/failinject_test.o: | $(KSFT_HDRS)
