/*
 * interrupt.c: sl_wh_interrupt, which stops a running statement from
 * another thread through the adapter's interrupt hook (sqlite3_interrupt,
 * PQcancel), so Ctrl-C and task timeouts need not wait for a long query,
 * and sets the connection's interrupted flag, which ends lock waits that
 * no statement is running for (SQLite's BEGIN IMMEDIATE retries).
 */
#include "warehouse/warehouse_int.h"

int sl_wh_interrupt(sl_wh *wh)
{
	if (!wh || !wh->ops->interrupt)
		return SL_EUSAGE;
	atomic_store(&wh->interrupted, true);
	return wh->ops->interrupt(wh);
}

bool sl_wh_interrupted(sl_wh *wh) { return atomic_load(&wh->interrupted); }

void sl_wh_interrupt_clear(sl_wh *wh) { atomic_store(&wh->interrupted, false); }
