# SPDX-License-Identifier: GPL-2.0
#
# pcache: a page cache module for Linux 6.12 and the hook patch series it
# needs.  Everything below runs as root on Debian bookworm and installs
# what it needs (tools/install-deps.sh).
#
#   make run	build what is missing, boot the guest, load pcache, run the demo
#   make test	the whole test suite in the guest; ends "N passed, N failed"
#   make bench	hook cost and feature benchmarks, pcache against the alternative
#
#   make kernel | module | initramfs | selftests | dkms | checkpatch | clean
#   make distclean	(also removes the kernel tree in build/)

TOP := $(CURDIR)
B := $(TOP)/build
KDIR := $(B)/linux
BZIMAGE := $(KDIR)/arch/x86/boot/bzImage
KSTAMP := $(B)/.kernel-built
INITRD := $(B)/initramfs.cpio.gz
WORKLOAD := $(B)/selftests/pcache_workload
BENCHBIN := $(B)/bench/pcache_bench
PATCHES := $(shell cat hooks-patch/series 2>/dev/null | sed 's|^|hooks-patch/|')

all: module

deps:
	@tools/install-deps.sh

kernel: $(KSTAMP)

$(KSTAMP): hooks-patch/series $(PATCHES) tools/kconfig/pcache.config tools/build-kernel.sh | deps
	tools/build-kernel.sh $(B)
	@touch $@

module: $(KSTAMP)
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

initramfs: $(INITRD)

$(INITRD): tools/guest/init tools/mkinitramfs.sh | deps
	tools/mkinitramfs.sh $@

selftests: $(WORKLOAD)

$(WORKLOAD): selftests/pcache_workload.c | deps
	$(MAKE) -C selftests OUT=$(B)/selftests

$(BENCHBIN): tools/bench/pcache_bench.c | deps
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

guest: kernel module initramfs selftests

dkms: $(KSTAMP)
	tools/dkms-build.sh $(B)

run: guest
	tools/vm.sh --disk 256 --timeout 600 -- tools/demo.sh

test: guest
	tools/run-tests.sh

bench: guest $(BENCHBIN)
	tools/vm.sh --disk 1024 --timeout 3000 --out $(B)/bench -- tools/bench.sh

# The module's files, then each patch as the kernel tree sees it (run from
# this git tree, checkpatch would take a patch file for a new file).
checkpatch: $(KSTAMP)
	-$(KDIR)/scripts/checkpatch.pl --strict --no-tree --terse -f \
		$(filter-out %.mod.c,$(wildcard module/*.c)) module/*.h
	-@for p in $(PATCHES); do echo "== $$p"; \
		(cd $(KDIR) && scripts/checkpatch.pl --strict --terse - < $(TOP)/$$p); done

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null || true
	rm -rf $(B)/selftests $(B)/vm $(B)/test $(B)/bench $(B)/dkms $(INITRD)

distclean:
	rm -rf $(B)

.PHONY: all deps kernel module initramfs selftests guest dkms run test bench checkpatch clean distclean
