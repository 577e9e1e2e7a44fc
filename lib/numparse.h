/* numparse.h: range-checked parsing of decimal numbers from untrusted text.
 * The only way loadsd turns text into a number (no atoi, no bare strtol). */
#ifndef LOADSD_NUMPARSE_H
#define LOADSD_NUMPARSE_H

#include <stdint.h>

/* Parses a whole string of decimal digits (no sign, no spaces, no empty
 * string, at most 20 digits) into *out when min <= value <= max.
 * Returns 0, -1 for malformed text, -2 for a value out of range. */
int numparse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
