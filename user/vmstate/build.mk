# SPDX-License-Identifier: GPL-2.0
# user/vmstate: state tables, the stream encoder and validating decoder,
# filters, the registry, the JSON form, and tern-state-dump.
VMSTATE_SRCS := user/vmstate/buf.c user/vmstate/crc32c.c user/vmstate/tree.c
VMSTATE_SRCS += user/vmstate/decode.c user/vmstate/encode.c
VMSTATE_SRCS += user/vmstate/save.c user/vmstate/load.c
VMSTATE_SRCS += user/vmstate/registry.c user/vmstate/filter.c
VMSTATE_SRCS += user/vmstate/json.c user/vmstate/catalog.c user/vmstate/admit.c

$(BUILD)/libtern-vmstate.a: $(call objs,$(VMSTATE_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tern-state-dump: $(call objs,user/vmstate/dump.c) \
		$(BUILD)/libtern-vmstate.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) \
		-Wl,--start-group $(filter %.a,$^) -Wl,--end-group $(LDLIBS)

PROGS += $(BUILD)/tern-state-dump
