/* Byte counts for people: printed the way the docker CLI prints them
 * (go-units HumanSize: decimal units, four significant digits). */
#ifndef CTXD_UNITS_H
#define CTXD_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "35.33MB", "512B", "1.2GB"; returns out. */
char *ctxd_units_human(uint64_t bytes, char out[16]);

#endif
