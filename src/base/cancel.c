/* cancel.c: cancellation tokens (see base.h): an atomic reason, an
 * optional deadline and a parent chain, polled at safe points. */
#include "base/base.h"

#include <stdatomic.h>

void sl_cancel_init(sl_cancel *c, const sl_cancel *parent)
{
	atomic_init(&c->reason, 0);
	c->deadline = 0;
	c->parent = parent;
}

void sl_cancel_request(sl_cancel *c)
{
	int none = 0;
	atomic_compare_exchange_strong(&c->reason, &none, SL_ECANCELLED);
}

void sl_cancel_set_timeout(sl_cancel *c, double seconds)
{
	c->deadline = seconds > 0 ? sl_monotonic_seconds() + seconds : 0;
}

int sl_cancelled(const sl_cancel *c)
{
	double now = 0;
	for (; c; c = c->parent) {
		int r = atomic_load(&c->reason);
		if (r)
			return r;
		if (c->deadline > 0) {
			if (now == 0)
				now = sl_monotonic_seconds();
			if (now >= c->deadline)
				return SL_ETIMEOUT;
		}
	}
	return 0;
}

int sl_cancel_check(const sl_cancel *c, const char *what, sl_error *err)
{
	int r = sl_cancelled(c);
	if (r == SL_ETIMEOUT)
		return sl_error_set(err, r, "%s: timed out", what);
	if (r)
		return sl_error_set(err, r, "%s: cancelled", what);
	return 0;
}
