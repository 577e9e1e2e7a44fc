/* fuzz_sgn.c: libFuzzer target for sgn_parse() and sgn_probe(). Checks that an
 * accepted header is consistent with itself; must not touch files or crypto. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/firmware/sgn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted header must describe bytes that lie inside it. */
static void fuzz_sgn_check(const struct sgn_header *h, size_t size)
{
    if (h->header_len > size || h->header_len % 4 != 0)
        abort();
    if (h->sig_offset + SGN_SIG_TLV_LEN + h->sig_len > h->header_len)
        abort();
    if (h->sig_len != h->key_bytes || h->serial_len > SGN_SERIAL_MAX)
        abort();
    if (strlen(h->filename) >= SGN_TEXT_MAX || h->filename[0] == '\0')
        abort();
    if (strlen(h->subject) >= SGN_TEXT_MAX || strlen(h->issuer) >= SGN_TEXT_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sgn_header h;
    const char *why = NULL;
    int rc = sgn_parse(data, size, size, &h, &why);

    if (rc == SGN_OK) {
        fuzz_sgn_check(&h, size);
        if (!sgn_probe(data, size) || why != NULL)
            abort();
    } else if (why == NULL || rc < SGN_MISSING) {
        abort();
    }
    /* a file that claims to be longer than the bytes at hand */
    (void)sgn_parse(data, size, (uint64_t)size + 4096, &h, &why);
    (void)sgn_hash_name(h.hash);
    return 0;
}
