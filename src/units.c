/* Human-readable sizes (see include/ctxd/units.h). */
#include "ctxd/units.h"

#include <stdio.h>

char *ctxd_units_human(uint64_t bytes, char out[16])
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	double v = (double)bytes;
	int i = 0;

	while (v >= 1000 && i < 6) {
		v /= 1000;
		i++;
	}
	/* %.4g, as go-units does */
	snprintf(out, 16, "%.4g%s", v, unit[i]);
	return out;
}
