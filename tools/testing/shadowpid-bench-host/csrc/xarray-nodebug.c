// SPDX-License-Identifier: GPL-2.0-or-later
/* tools/testing/shared/xarray-shared.c without XA_DEBUG (a production build's
 * XA_BUG_ON/XA_NODE_BUG_ON are no-ops). Only the IDA half of lib/idr.c calls
 * into it; the IDR paths live in lib/radix-tree.c. */
#include "shared.h"
#include "xarray.c"	/* lib/xarray.c, via -I$KSRC/lib */
