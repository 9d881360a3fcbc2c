/* error.c: the caller-owned error struct; filling it never allocates. */
#include "base.h"

#include <stdio.h>
#include <string.h>

int sl_error_setv(sl_error *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->message, sizeof err->message, fmt, ap);
	}
	return code;
}

int sl_error_set(sl_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sl_error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int sl_error_prefix(sl_error *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof err->message];
	va_list ap;

	if (!err)
		return SL_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof old);
	snprintf(err->message, sizeof err->message, "%s%s", prefix, old);
	return err->code ? err->code : SL_EINTERNAL;
}

void sl_error_clear(sl_error *err)
{
	if (err) {
		err->code = 0;
		err->message[0] = '\0';
	}
}

const char *sl_error_name(int code)
{
	switch (code) {
	case SL_OK: return "ok";
	case SL_ENOMEM: return "out of memory";
	case SL_EIO: return "io";
	case SL_EINVAL: return "invalid";
	case SL_ECONFIG: return "config";
	case SL_ENOTFOUND: return "not found";
	case SL_EFORMAT: return "format";
	case SL_EUSAGE: return "usage";
	case SL_ECONFLICT: return "conflict";
	case SL_EDB: return "database";
	case SL_ENET: return "network";
	case SL_ELIMIT: return "limit";
	case SL_ECANCELLED: return "cancelled";
	case SL_ETIMEOUT: return "timeout";
	default: return "internal";
	}
}
