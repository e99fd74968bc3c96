# SPDX-License-Identifier: GPL-2.0
# user/migration: the live-migration protocol (libtern-migration.a).
MIGRATION_SRCS := $(addprefix user/migration/, mig.c wire.c transport.c admission.c \
	handshake.c ramblock.c pagestream.c precopy.c switchover.c source.c \
	incoming.c query.c params.c channel.c tls.c)

$(BUILD)/libtern-migration.a: $(call objs,$(MIGRATION_SRCS))
	@rm -f $@
	ar rcs $@ $^
