/* fuzz_phc.c: libFuzzer target for auth_phc_parse(), the password hash
 * string parser: any bytes must parse or be refused without a fault, and
 * whatever parses must format back to the same text. Never hashes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_phc phc;
    char text[AUTH_PHC_MAX];
    char *copy;

    if (size > 2 * AUTH_PHC_MAX)
        return 0;
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    if (auth_phc_parse(copy, size, &phc) == AUTH_OK) {
        if (auth_phc_format(&phc, text, sizeof(text)) != AUTH_OK || strcmp(text, copy) != 0)
            abort(); /* a parsed string has exactly one text */
    }
    free(copy);
    return 0;
}
