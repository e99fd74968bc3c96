# SPDX-License-Identifier: GPL-2.0
# make install / uninstall, as wireguard-tools does it: PREFIX (default
# /usr/local) and DESTDIR for staging.  Installs the programs, their man
# pages, bash completion, the uapi header, the udev rule for /dev/tern and, through
# kbuild's modules_install, tern.ko for KVER (DKMS instead: dkms.conf).
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
INCLUDEDIR	?= $(PREFIX)/include
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
# udev reads /etc and its own directory, never /usr/local.
UDEVDIR		?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/lib/udev)
UDEVRULESDIR	?= $(if $(filter /usr,$(PREFIX)),$(UDEVDIR)/rules.d,/etc/udev/rules.d)
INSTALL_MOD_DIR	?= extra

TERN_RELEASE	:= $(shell cat VERSION)
DKMSSRCDIR	?= /usr/src/tern-$(TERN_RELEASE)

INSTALL_PROGS	:= ternvm ternctl tern-state-dump
# What DKMS builds tern.ko from: kbuild files, module sources, uapi header.
DKMS_FILES	:= dkms.conf VERSION Kbuild kmod/Kbuild $(wildcard kmod/*.[ch] kmod/selftest/*.[ch]) \
		   include/uapi/linux/tern.h
MANPAGES	:= $(wildcard Documentation/man/*.[1-8])

.PHONY: install install-user install-module install-dkms uninstall
install: install-user install-module

install-user: $(addprefix $(BUILD)/,$(INSTALL_PROGS))
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UDEVRULESDIR)
	install -m 0755 $^ $(DESTDIR)$(BINDIR)/
	@set -e; for m in $(MANPAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		echo "install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/"; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	install -m 0644 dist/60-tern.rules $(DESTDIR)$(UDEVRULESDIR)/60-tern.rules
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 dist/tern-completion.bash $(DESTDIR)$(BASHCOMPDIR)/ternctl
	install -m 0644 dist/tern-completion.bash $(DESTDIR)$(BASHCOMPDIR)/ternvm
	install -d $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 0644 include/uapi/linux/tern.h $(DESTDIR)$(INCLUDEDIR)/linux/tern.h
	@# The rule names the group: on this machine (not a staging tree), make it.
	@if [ -z "$(DESTDIR)" ] && ! getent group tern >/dev/null; then \
		echo "groupadd --system tern"; groupadd --system tern; fi

# Unsigned: a distribution's signing key is not in its headers package.
install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) CONFIG_MODULE_SIG_ALL= modules_install
	@# kbuild skips depmod without the kernel's System.map (Debian's headers).
	@if [ -z "$(DESTDIR)" ]; then echo "depmod $(KVER)"; depmod $(KVER); fi

# The module's source for DKMS (not part of `install`: one of the two).
install-dkms:
	@set -e; for f in $(filter-out %.mod.c,$(DKMS_FILES)); do \
		install -d $(DESTDIR)$(DKMSSRCDIR)/$$(dirname $$f); \
		install -m 0644 $$f $(DESTDIR)$(DKMSSRCDIR)/$$f; \
	done
	@echo "installed the module's source in $(DESTDIR)$(DKMSSRCDIR);" \
		"then: dkms install tern/$(TERN_RELEASE)"

# The group tern stays, as a package's system group does.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_PROGS))
	rm -f $(foreach m,$(MANPAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-tern.rules
	rm -f $(DESTDIR)$(INCLUDEDIR)/linux/tern.h
	rm -f $(DESTDIR)$(BASHCOMPDIR)/ternctl $(DESTDIR)$(BASHCOMPDIR)/ternvm
	rm -f $(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)/kmod/tern.ko
	-rmdir $(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)/kmod 2>/dev/null
	@if [ -z "$(DESTDIR)" ]; then echo "depmod $(KVER)"; depmod $(KVER); fi
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null && \
	    [ -n "$$(dkms status tern/$(TERN_RELEASE) 2>/dev/null)" ]; then \
		echo "dkms remove tern/$(TERN_RELEASE) --all"; dkms remove tern/$(TERN_RELEASE) --all; fi
	rm -rf $(DESTDIR)$(DKMSSRCDIR)
