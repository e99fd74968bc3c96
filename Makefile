# SPDX-License-Identifier: GPL-2.0
#
# Tern top level.  `make` builds tern.ko and the userspace programs and
# tests; `make check` runs every test (host tests, fuzzers, then the harness
# VM); `make demo` shows a live migration.  Components add themselves
# through their own build.mk, so a new component is one include line here.

# The Debian cloud kernel that the harness VM boots; never the host's
# `uname -r` (the host kernel cannot load modules).  Override KDIR to build
# against any other tree, e.g. make KDIR=/lib/modules/$(uname -r)/build.
KVER	?= $(shell ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sed 's|.*/||' | sort -V | tail -n1)
KDIR	?= /lib/modules/$(KVER)/build

# `make check` builds userspace under ASan+UBSan into its own tree.
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD	?= build/san
else
BUILD	?= build
endif
CACHE	:= build/cache

CC	:= clang
WARN	:= -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wvla -Wformat=2
CPPFLAGS := -D_GNU_SOURCE -Iinclude/uapi -Iinclude -Iuser $(shell pkg-config --cflags libnl-genl-3.0 json-c 2>/dev/null)
# EXTRA_CFLAGS: a distribution's flags (debian/rules); LDFLAGS comes from
# the environment as is.
CFLAGS	:= -std=c11 -O2 -g $(WARN) -fno-omit-frame-pointer $(EXTRA_CFLAGS)
LDLIBS	:= $(shell pkg-config --libs libnl-genl-3.0 json-c liburcu gnutls libseccomp liburing 2>/dev/null) -lpthread
# Hardened as Debian's hardening=+all builds a package: PIE, full RELRO,
# stack protector, and (without ASan, which replaces them) the
# _FORTIFY_SOURCE checked calls.
CFLAGS	+= -fPIE -fstack-protector-strong
LDFLAGS	+= -pie -Wl,-z,relro,-z,now
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS	+= $(SANFLAGS)
LDFLAGS	+= $(SANFLAGS)
else
CPPFLAGS += -D_FORTIFY_SOURCE=2
endif
# Fuzz targets: coverage-instrumented copies of the sources they test.
# (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: the usual name for what a
# fuzz build may relax, here the migration channels' token check.)
FUZZFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_SECONDS ?= 30

# Filled in by the build.mk fragments.
PROGS		:=	# installed programs (ternvm, ternctl)
HOST_TESTS	:=	# TAP programs run on the build host
HARNESS_TESTS	:=	# TAP programs run inside the harness VM
HARNESS_FILES	:=	# extra SRC:DST files for the harness initramfs
FUZZERS		:=	# libFuzzer binaries; corpus in selftests/tern/fuzz/corpus/NAME
BENCHES		:=	# benchmarks run on the host by `make bench`
HARNESS_BENCHES	:=	# benchmarks run inside the harness VM by `make bench`

.PHONY: all module user programs bench check check-full check-run check-debug check-debug-run demo deps clean print-tests FORCE
all: module user

deps:
	@scripts/deps.sh

module:
	@test -d "$(KDIR)" || { echo "tern: no kernel build tree at KDIR=$(KDIR) (run scripts/deps.sh)"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(FUZZFLAGS) -MMD -MP -c -o $@ $<

# objs,SRCS: the object files of SRCS in this build
objs = $(patsubst %.c,$(BUILD)/%.o,$(1))
fuzz-objs = $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(1))

include user/lib/build.mk
include selftests/tern/build.mk
-include user/vmstate/build.mk
-include user/migration/build.mk
-include user/vm/build.mk
-include user/ctl/build.mk
-include $(wildcard bench/*.mk)
include dist/install.mk

# Tests that boot a Linux guest under ternvm, after the module's own; the
# long fault campaigns (LINUX_GUEST_TESTS_LAST) at the end.
LINUX_GUEST_TESTS ?=
LINUX_GUEST_TESTS_LAST ?=
HARNESS_TESTS += $(LINUX_GUEST_TESTS) $(LINUX_GUEST_TESTS_LAST)

# Every selftest object needs the extracted kselftest headers first.
$(patsubst %,%.o,$(filter $(BUILD)/selftests/%,$(HOST_TESTS) $(HARNESS_TESTS))): | $(KSFT_HDRS)

# The installed programs alone (what a package builds).
programs: $(PROGS)

user: $(PROGS) $(HOST_TESTS) $(HARNESS_TESTS) $(FUZZERS) $(GUEST_PROGS) $(LINUX_GUEST_TESTS)

check: deps
	@$(MAKE) --no-print-directory module
	@$(MAKE) --no-print-directory SANITIZE=1 check-run

# check-full: the same tests with the long campaigns (see DESIGN.md, Time).
check-full: deps
	@scripts/deps.sh check-full
	@$(MAKE) --no-print-directory module
	@TERN_CHECK_FULL=1 $(MAKE) --no-print-directory SANITIZE=1 FUZZ_SECONDS=3600 check-run

check-run: user
	@scripts/check.sh --host "$(HOST_TESTS)" --fuzz "$(FUZZERS)" \
		--harness "$(HARNESS_TESTS)" --files "$(HARNESS_FILES)" \
		--fuzz-seconds $(FUZZ_SECONDS) --kver $(KVER)

# check-debug: the module's tests on a KASAN + lockdep + kmemleak +
# fault-injection kernel built once per machine (scripts/debug-kernel.sh;
# the tests are DEBUG_KERNEL_TESTS, selftests/tern/kmod/debug.mk).  The gate a
# module change passes before it lands; not part of `make check`.
check-debug: deps
	@scripts/deps.sh debug
	@$(MAKE) --no-print-directory SANITIZE=1 check-debug-run

check-debug-run: user $(DEBUG_KERNEL_TESTS)
	@scripts/check-debug.sh --tests "$(DEBUG_KERNEL_TESTS)" \
		--files "$(filter-out $(KMOD_DEBUG)/kmod/tern.ko:%,$(HARNESS_FILES))"

# The test lists, for selftests/tern/Makefile's run_tests.
print-tests:
	@echo $(if $(filter host,$(WHICH)),$(HOST_TESTS),$(HARNESS_TESTS))

# Benchmarks print ratios measured in the same run; they never fail a build.
bench: deps module $(BENCHES) $(HARNESS_BENCHES)
	@scripts/deps.sh bench
	@scripts/bench.sh --host "$(BENCHES)" --harness "$(HARNESS_BENCHES)"

demo: deps
	@scripts/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf build/san build/fuzz-obj $(filter-out build/cache build/kselftest,$(wildcard build/*))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
