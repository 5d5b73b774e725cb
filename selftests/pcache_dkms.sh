#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module that `dkms build` made on the host (tools/dkms-build.sh,
# run by `make test` before the guest boots) loads and works in the guest.
. "$(dirname "$0")/lib.sh"

ko=${PCACHE_DKMS_KO:-$BUILD/dkms/pcache.ko}
[ -f "$ko" ] || t_skip_all "no DKMS-built module at $ko (see build/dkms/log)"

pcache_unload
t_check "insmod the DKMS-built pcache.ko" pcache_load --ko "$ko"
t_check "it is the same version as the tree" \
	test "$(cat /sys/module/pcache/version)" = "$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")"
before=$(hooks_total)
poke_hooks
t_check "its hooks fire" test "$(hooks_total)" -gt "$before"
t_check "rmmod the DKMS-built module" pcache_unload
t_done
