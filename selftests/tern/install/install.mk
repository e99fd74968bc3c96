# SPDX-License-Identifier: GPL-2.0
# Installing Tern (issue 19): versions, and the host tests that check them.
# Each sources host_lib.sh, copied one directory up.
$(BUILD)/selftests/tern/host_lib.sh: selftests/tern/host_lib.sh
	@mkdir -p $(@D)
	cp $< $@
# The tests of the three built programs: versions; the man pages against
# their --help (and groff's warnings); make install / uninstall into a
# staging tree; their hardening (issue 18, item 6: PIE, full RELRO, stack
# protector, _FORTIFY_SOURCE).
PROGRAM_TESTS := $(patsubst %,$(BUILD)/selftests/tern/install/%_test.sh,version man install hardening)
$(PROGRAM_TESTS): $(BUILD)/selftests/tern/install/%.sh: selftests/tern/install/%.sh \
		$(BUILD)/selftests/tern/host_lib.sh \
		$(BUILD)/ternvm $(BUILD)/ternctl $(BUILD)/tern-state-dump
	@mkdir -p $(@D)
	cp $< $@
HOST_TESTS += $(PROGRAM_TESTS)

# DKMS (and, under check-full, its module in the harness: module_test).
$(BUILD)/selftests/tern/install/dkms_test.sh: selftests/tern/install/dkms_test.sh \
		$(BUILD)/selftests/tern/host_lib.sh \
		$(BUILD)/selftests/tern/kmod/module_test
	@mkdir -p $(@D)
	cp $< $@
HOST_TESTS += $(BUILD)/selftests/tern/install/dkms_test.sh

# The Debian packages: built, linted, unpacked and used (check-full only).
$(BUILD)/selftests/tern/install/deb_test.sh: selftests/tern/install/deb_test.sh \
		$(BUILD)/selftests/tern/host_lib.sh \
		$(BUILD)/selftests/tern/vm/vm_migrate_test.sh
	@mkdir -p $(@D)
	cp $< $@
ifneq ($(TERN_CHECK_FULL),)
HOST_TESTS += $(BUILD)/selftests/tern/install/deb_test.sh
endif

# Bash completion, run as bash runs it against the built programs.
$(BUILD)/selftests/tern/install/completion_test.sh: selftests/tern/install/completion_test.sh \
		$(BUILD)/selftests/tern/host_lib.sh \
		$(BUILD)/ternvm $(BUILD)/ternctl
	@mkdir -p $(@D)
	cp $< $@
HOST_TESTS += $(BUILD)/selftests/tern/install/completion_test.sh

# ternctl's command line (getopt_long over its command table).
$(BUILD)/selftests/tern/vm/ctl_args_test.sh: selftests/tern/vm/ctl_args_test.sh \
		$(BUILD)/selftests/tern/host_lib.sh $(BUILD)/ternctl
	@mkdir -p $(@D)
	cp $< $@
HOST_TESTS += $(BUILD)/selftests/tern/vm/ctl_args_test.sh
