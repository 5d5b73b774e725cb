#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pcache_soak with allocation failures injected into pcache (issue 13):
# failslab and fail_page_alloc, limited by their stack filter to
# allocations with pcache's code on the stack, fail 20 % of them while
# every feature is on under the soak's load.  Every feature must fall back
# to the stock path and count the failure; no byte may go wrong.  See
# pcache_soak.sh.
export PCACHE_SOAK_FAULTS=1
exec "$(dirname "$0")/pcache_soak.sh"
