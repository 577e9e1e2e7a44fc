/* numparse.c: strict decimal parsing of untrusted text with overflow checks.
 * Accepts only plain digits; never uses strtol/atoi and never reads past the NUL. */
#include "lib/numparse.h"

#include <stddef.h>

#define NUMPARSE_DIGITS_MAX 20 /* UINT64_MAX has 20 digits */

int numparse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;
    int overflow = 0;
    size_t n = 0;

    if (s == NULL || s[0] == '\0')
        return -1;
    for (; s[n] != '\0'; n++) {
        unsigned digit;

        if (s[n] < '0' || s[n] > '9' || n >= NUMPARSE_DIGITS_MAX)
            return -1;
        digit = (unsigned)(s[n] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            overflow = 1;
        else
            value = value * 10 + digit;
    }
    if (overflow || value < min || value > max)
        return -2;
    if (out != NULL)
        *out = value;
    return 0;
}
