/* fuzz_upload_name.c: libFuzzer target for jobs_source_clean, the cleaner of
 * upload file names: the output must always be a safe, bounded name. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/jobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[256];
    size_t cap = size > 0 ? (size_t)data[0] % sizeof(out) + 1 : sizeof(out);
    size_t n;

    jobs_source_clean((const char *)data, size, out, cap);
    n = strlen(out);
    if (n >= cap || (cap > 1 && n == 0) || out[0] == '.')
        abort();
    for (size_t i = 0; i < n; i++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", out[i]) ==
            NULL)
            abort();
    return 0;
}
