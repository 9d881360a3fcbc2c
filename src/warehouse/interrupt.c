/*
 * interrupt.c: sl_wh_interrupt, which stops a running statement from
 * another thread through the adapter's interrupt hook (sqlite3_interrupt,
 * PQcancel), so Ctrl-C and task timeouts need not wait for a long query.
 */
#include "warehouse/warehouse_int.h"

int sl_wh_interrupt(sl_wh *wh)
{
	if (!wh || !wh->ops->interrupt)
		return SL_EUSAGE;
	return wh->ops->interrupt(wh);
}
