# SPDX-License-Identifier: GPL-2.0
# selftests/tern: kselftest TAP programs.  The kernel's kselftest_harness.h
# is taken from Debian's linux-source-6.1 at build time, never committed.
# A test registers itself with one line:
#   HOST_TESTS += $(BUILD)/selftests/tern/foo_test	(runs on the host)
#   HARNESS_TESTS += $(BUILD)/selftests/tern/foo_test	(runs in the harness VM)
# and links extra archives by naming them as prerequisites:
#   $(BUILD)/selftests/tern/foo_test: $(BUILD)/libtern-vmstate.a

KSFT_DIR	:= build/kselftest
KSFT_HDRS	:= $(KSFT_DIR)/kselftest_harness.h $(KSFT_DIR)/kselftest.h
LINUX_SOURCE	:= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))

$(KSFT_HDRS) &:
	@test -n "$(LINUX_SOURCE)" || { echo "tern: linux-source-6.1 missing (run scripts/deps.sh)"; exit 1; }
	@mkdir -p $(KSFT_DIR)
	tar -xJf $(LINUX_SOURCE) -C $(KSFT_DIR) --strip-components=4 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	@touch $(KSFT_HDRS)

SELFTEST_LIB_SRCS := selftests/tern/lib/assert.c selftests/tern/lib/kmod_util.c \
	selftests/tern/lib/kvm_util.c selftests/tern/lib/vhost_util.c

$(BUILD)/libtern-selftest.a: $(call objs,$(SELFTEST_LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/selftests/tern/%.o: CPPFLAGS += -isystem $(KSFT_DIR) -Iselftests/tern/include


$(BUILD)/selftests/tern/%_test: $(BUILD)/selftests/tern/%_test.o \
		$(BUILD)/libtern-selftest.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) \
		-Wl,--start-group $(filter %.a,$^) -Wl,--end-group $(LDLIBS)

HARNESS_TESTS += $(BUILD)/selftests/tern/kmod/module_test
HARNESS_TESTS += $(BUILD)/selftests/tern/kmod/kvm_smoke_test

# Each area registers its tests in its own selftests/tern/<area>/*.mk.
-include $(wildcard selftests/tern/*/*.mk)
HOST_TESTS += selftests/tern/harness_selftest.sh

HOST_TESTS += selftests/tern/checkpatch_test.sh
HOST_TESTS += selftests/tern/sparse_test.sh
HOST_TESTS += selftests/tern/license_test.sh

# Programs that run inside nested Linux guests: static, unsanitized.
GUEST_PROGS := $(BUILD)/guest/memcheck $(BUILD)/guest/diskcheck $(BUILD)/guest/netcheck
$(BUILD)/guest/%: selftests/tern/guest/%.c
	@mkdir -p $(@D)
	gcc -static -O2 -Wall -Wextra -Werror -o $@ $<

# tern-state-dump, the program (its library is tested by vmstate_*_test).
$(BUILD)/selftests/tern/vmstate/vmstate_dump_test.sh: selftests/tern/vmstate/vmstate_dump_test.sh $(BUILD)/tern-state-dump
	@mkdir -p $(@D)
	cp $< $@
HOST_TESTS += $(BUILD)/selftests/tern/vmstate/vmstate_dump_test.sh
