# SPDX-License-Identifier: GPL-2.0
# Migration between releases (issue 21): ternvm and ternctl of the first
# release in `releases`, built once from a git worktree of its commit
# into build/release/NAME (scripts/release-build.sh; about 30 s, then
# cached), run in the harness against this tree's.  Not sanitized: the
# old tree's plain build, as it shipped.
XV_RELEASE := $(shell sed -n 's/^\(v[0-9][^ ]*\) \([0-9a-f]\{40\}\)$$/\1 \2/p' releases | head -n1)
XV_DIR := build/release/$(word 1,$(XV_RELEASE))

# Always asked, cheap once built: the script checks its stamp.
$(XV_DIR)/ternvm: FORCE
	@scripts/release-build.sh $(XV_RELEASE) $(XV_DIR)
$(XV_DIR)/ternctl: $(XV_DIR)/ternvm

$(BUILD)/selftests/tern/migration/xversion_test.sh: selftests/tern/migration/xversion_test.sh $(MIG_GUEST_IMG) \
		$(BUILD)/selftests/tern/tern-json \
		$(BUILD)/ternvm $(BUILD)/ternctl $(XV_DIR)/ternvm $(XV_DIR)/ternctl
	@mkdir -p $(@D)
	cp $< $@

HARNESS_FILES += $(XV_DIR)/ternvm:/usr/bin/ternvm-release
HARNESS_FILES += $(XV_DIR)/ternctl:/usr/bin/ternctl-release
LINUX_GUEST_TESTS += $(BUILD)/selftests/tern/migration/xversion_test.sh
