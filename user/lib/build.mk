# SPDX-License-Identifier: GPL-2.0
# user/lib: helpers every Tern program links (logging, version, ...).
TERNLIB_SRCS := user/lib/log.c user/lib/ternnl.c
TERNLIB_SRCS += user/lib/json_line.c user/lib/version.c
TERNLIB_SRCS += user/lib/unix_listen.c

$(BUILD)/libtern-lib.a: $(call objs,$(TERNLIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

# The version header: rewritten only when the version changes.
TERN_VERSION_H := $(BUILD)/gen/tern_version.h
$(TERN_VERSION_H): FORCE
	@mkdir -p $(@D)
	@v='#define TERN_VERSION "'"$$(scripts/version.sh)"'"'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@
$(BUILD)/user/lib/version.o: $(TERN_VERSION_H)
$(BUILD)/user/lib/version.o: CPPFLAGS += -I$(BUILD)/gen
