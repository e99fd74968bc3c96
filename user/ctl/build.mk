# SPDX-License-Identifier: GPL-2.0
# user/ctl: ternctl, a file per subcommand.
CTL_SRCS := user/ctl/ternctl.c user/ctl/ipc.c user/ctl/status.c user/ctl/stop.c \
	user/ctl/cont.c user/ctl/quit.c user/ctl/state_file.c \
	user/ctl/events.c user/ctl/send.c user/ctl/migrate.c \
	user/ctl/migrate_status.c user/ctl/migrate_cancel.c user/ctl/regions.c \
	user/ctl/migrate_params.c user/ctl/commands.c

$(BUILD)/ternctl: $(call objs,$(CTL_SRCS)) $(BUILD)/libtern-migration.a $(BUILD)/libtern-lib.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

PROGS += $(BUILD)/ternctl
