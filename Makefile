# SPDX-License-Identifier: GPL-2.0
#
# pcache: a page cache module for Linux 6.12 and the hook patch series it
# needs.  Everything below runs as root on Debian bookworm and installs
# what it needs (tools/install-deps.sh).
#
#   make run	build what is missing, boot the guest, show each feature off
#		and on in one table (VERBOSE=1: the sysfs tree, hook counters)
#   make test	the whole test suite in the guest; ends "N passed, N failed"
#		(TESTS="pcache_load pcache_fork" runs some; KASAN=1 runs them on
#		a third tree, the test kernel with generic KASAN)
#   make bench	hook cost and feature benchmarks, pcache against the alternative,
#		with plots of them (build/bench/*.png, tools/bench-plot.sh)
#		(on a second kernel tree built without the debug checks)
#
#   make soak	every feature on under load, toggled and reloaded, for MINUTES
#		minutes (default 30; make test runs a short one); FAULTS=1
#		with allocation failures injected into pcache
#   make mutants	build pcache with one deliberate bug at a time (MUTANTS="1 5"
#		picks some) and check that the selftests catch each
#   make install-tools	pcachectl into PREFIX/sbin (default /usr/local)
#   make kernel | module | initramfs | selftests | dkms | checkpatch | clean
#   make distclean	(also removes the kernel tree in build/)

TOP := $(CURDIR)
B := $(TOP)/build
FRAGMENT := tools/kconfig/pcache.config
# The test kernel (make test, run, dkms): lockdep, atomic-sleep, VM checks.
KDIR := $(B)/linux
KSTAMP := $(B)/.kernel-built
# The benchmark kernel (make bench): the same without the debug checks.
PERF_KDIR := $(B)/linux-perf
PERF_KSTAMP := $(B)/.kernel-perf-built
PERF_MOD := $(B)/perf-module
# The KASAN test kernel (make test KASAN=1): the test kernel plus KASAN.
KASAN_KDIR := $(B)/linux-kasan
KASAN_KSTAMP := $(B)/.kernel-kasan-built
KASAN_MOD := $(B)/kasan-module
# KASAN on top of lockdep runs several times slower under TCG: the ACPI
# interpreter's loop timeout and the soft-lockup watchdog (20 s) fire on
# their own at boot.  Route PCI interrupts without ACPI, and give the
# watchdog a threshold to match.
KASAN_APPEND := acpi=noirq watchdog_thresh=60
INITRD := $(B)/initramfs.cpio.gz
WORKLOAD := $(B)/selftests/pcache_workload
BENCHBIN := $(B)/bench/pcache_bench
# Observe mode's kprobe module (tools/observe/), for the test kernel and
# for the KASAN kernel: selftest pcache_observe loads it.
OBSERVE_KO := $(B)/observe/faultaround_unused.ko
KASAN_OBSERVE_KO := $(KASAN_MOD)/observe/faultaround_unused.ko
OBSERVE_SRCS := tools/observe/faultaround_unused.c tools/observe/Kbuild tools/observe/Makefile
PATCHES := $(shell cat hooks-patch/series 2>/dev/null | sed 's|^|hooks-patch/|')

all: module

deps:
	@tools/install-deps.sh

kernel: $(KSTAMP)

KDEPS := hooks-patch/series $(PATCHES) $(FRAGMENT) tools/build-kernel.sh

$(KSTAMP): $(KDEPS) tools/kconfig/debug.config | deps
	tools/build-kernel.sh $(KDIR) $(FRAGMENT) tools/kconfig/debug.config
	@touch $@

$(PERF_KSTAMP): $(KDEPS) | deps
	tools/build-kernel.sh $(PERF_KDIR) $(FRAGMENT)
	@touch $@

$(KASAN_KSTAMP): $(KDEPS) tools/kconfig/debug.config tools/kconfig/kasan.config | deps
	tools/build-kernel.sh $(KASAN_KDIR) $(FRAGMENT) tools/kconfig/debug.config \
		tools/kconfig/kasan.config
	@touch $@

module: $(KSTAMP)
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

initramfs: $(INITRD)

$(INITRD): tools/guest/init tools/mkinitramfs.sh | deps
	tools/mkinitramfs.sh $@

SELFTEST_BINS := $(WORKLOAD) $(B)/selftests/pcache_repl $(B)/selftests/pcache_fork \
		 $(B)/selftests/pcache_fsx $(B)/selftests/pcache_failnth \
		 $(B)/selftests/pcache_fa
SELFTEST_SRCS := selftests/pcache_workload.c selftests/pcache_repl.c \
		 selftests/pcache_fork.c selftests/pcache_fsx.c \
		 selftests/pcache_failnth.c selftests/pcache_fa.c \
		 selftests/Makefile

selftests: $(SELFTEST_BINS)

$(SELFTEST_BINS): $(SELFTEST_SRCS) | deps
	$(MAKE) -C selftests OUT=$(B)/selftests

$(BENCHBIN): tools/bench/pcache_bench.c | deps
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

$(OBSERVE_KO): $(OBSERVE_SRCS) $(KSTAMP)
	$(MAKE) -C tools/observe KDIR=$(KDIR) OUT=$(B)/observe

$(KASAN_OBSERVE_KO): $(OBSERVE_SRCS) $(KASAN_KSTAMP)
	$(MAKE) -C tools/observe KDIR=$(KASAN_KDIR) OUT=$(KASAN_MOD)/observe

guest: kernel module initramfs selftests $(BENCHBIN) $(OBSERVE_KO)

dkms: $(KSTAMP)
	tools/dkms-build.sh $(B)

run: guest
	tools/vm.sh --disk 256 --timeout 1200 -- env VERBOSE=$(VERBOSE) tools/demo.sh

# A cycle of pcache_unload_all takes minutes on the KASAN kernel; KASAN
# reports a use-after-free on the first, so two cycles (one switching
# every feature off first, one not) do, with longer timeouts.  Checks
# that time something wait PCACHE_SLOW times longer.
ifeq ($(KASAN),1)
test: kasan-module initramfs selftests $(BENCHBIN) $(KASAN_OBSERVE_KO)
	PCACHE_KTREE=$(KASAN_KDIR) PCACHE_MODDIR=$(KASAN_MOD)/module \
		PCACHE_OBSERVE_KO=$(KASAN_OBSERVE_KO) \
		PCACHE_APPEND="$(KASAN_APPEND)" \
		PCACHE_UNLOAD_CYCLES=$(or $(PCACHE_UNLOAD_CYCLES),2) \
		PCACHE_SLOW=$(or $(PCACHE_SLOW),8) \
		PCACHE_TEST_TIMEOUT=$(or $(PCACHE_TEST_TIMEOUT),7200) \
		PCACHE_GUEST_TIMEOUT=$(or $(PCACHE_GUEST_TIMEOUT),14400) \
		tools/run-tests.sh $(TESTS)
else
test: guest
	tools/run-tests.sh $(TESTS)
endif

# The long soak: pcache_soak alone in one guest, MINUTES minutes of load
# (FAULTS=1: pcache_soak_faults, with allocation failures injected).
MINUTES ?= 30
SOAK_TEST := pcache_soak$(if $(filter 1,$(FAULTS)),_faults)
soak: guest
	PCACHE_GUESTS=1 PCACHE_SOAK_SECONDS=$$(($(MINUTES) * 60)) \
		PCACHE_TEST_TIMEOUT=$$(($(MINUTES) * 60 + 900)) \
		PCACHE_GUEST_TIMEOUT=$$(($(MINUTES) * 60 + 1500)) \
		PCACHE_TEST_OUT=$(B)/soak tools/run-tests.sh $(SOAK_TEST)

# The user tools: pcachectl (tools/pcachectl), into PREFIX/sbin.
PREFIX ?= /usr/local
install-tools:
	install -D -m 755 tools/pcachectl $(DESTDIR)$(PREFIX)/sbin/pcachectl

# Mutation testing: every mutant must make its feature's selftests fail.
mutants: guest $(KASAN_KSTAMP)
	tools/mutants.sh $(MUTANTS)

# The module for the benchmark kernel.
perf-module: $(PERF_KSTAMP)
	tools/module-copy.sh $(PERF_KDIR) $(PERF_MOD)

# The module for the KASAN kernel.
kasan-module: $(KASAN_KSTAMP)
	tools/module-copy.sh $(KASAN_KDIR) $(KASAN_MOD)

# Passed to tools/bench.sh when set (make bench BENCH_ONLY="swap fork").
BENCH_VARS := BENCH_ONLY FEAT_MIN FEAT_MAX FEAT_CAP
bench: perf-module initramfs selftests $(BENCHBIN)
	tools/vm.sh --kernel $(PERF_KDIR)/arch/x86/boot/bzImage --disk 1024 \
		--timeout 7200 --out $(B)/bench -- \
		env PCACHE_KO=$(PERF_MOD)/module/pcache.ko \
		PCACHE_BENCH_HOST="$$(nproc) CPUs, load $$(cut -d' ' -f1-3 /proc/loadavg) at the start, $$(git describe --always --dirty 2>/dev/null || echo 'no git')" \
		$(foreach v,$(BENCH_VARS),$(if $($(v)),$(v)="$($(v))")) tools/bench.sh
	tools/bench-plot.sh $(B)/bench

# The module's files, then each patch as the kernel tree sees it (run from
# this git tree, checkpatch would take a patch file for a new file).
checkpatch: $(KSTAMP)
	-$(KDIR)/scripts/checkpatch.pl --strict --no-tree --terse -f \
		$(filter-out %.mod.c,$(wildcard module/*.c module/*/*.c)) \
		$(wildcard module/*.h module/*/*.h) tools/observe/faultaround_unused.c
	-@for p in $(PATCHES); do echo "== $$p"; \
		(cd $(KDIR) && scripts/checkpatch.pl --strict --terse - < $(TOP)/$$p); done

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null || true
	rm -rf $(B)/selftests $(B)/vm $(B)/test $(B)/bench $(B)/dkms $(B)/observe $(PERF_MOD) \
		$(KASAN_MOD) $(INITRD)

distclean:
	rm -rf $(B)

.PHONY: all deps kernel module perf-module kasan-module mutants soak initramfs selftests guest dkms run test bench checkpatch clean distclean install-tools
