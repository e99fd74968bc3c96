# SPDX-License-Identifier: GPL-2.0
# user/lib: helpers every Tern program links (logging, ...).
TERNLIB_SRCS := user/lib/log.c user/lib/ternnl.c
TERNLIB_SRCS += user/lib/json_line.c

$(BUILD)/libtern-lib.a: $(call objs,$(TERNLIB_SRCS))
	@rm -f $@
	ar rcs $@ $^
