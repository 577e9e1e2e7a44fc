/* fuzz_devquery.c: libFuzzer target for the devices list's filter values
 * and sort parser (db/model/devquery.c): the first byte picks a filter (or
 * the sort), the rest is its text, in a heap copy of exactly that size. A
 * value taken is NUL-terminated within DEVQUERY_TEXT_MAX; a refusal changes
 * nothing; a sort taken names a column. Must not touch files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/model/devquery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct devquery q, before;
    const char *why = NULL;
    unsigned pick;
    char *text;
    int rc;

    if (size == 0)
        return 0;
    pick = data[0] % 8; /* the 7 filters, then the sort */
    text = malloc(size - 1 ? size - 1 : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    memset(&q, 0x5a, sizeof(q)); /* refusals must leave every byte */
    before = q;
    if (pick == 7)
        rc = devquery_sort_parse(&q, text, size - 1, &why);
    else
        rc = devquery_set(&q, devquery_filter_names[pick], text, size - 1, &why);
    if (rc != 0 && (why == NULL || memcmp(&q, &before, sizeof(q)) != 0))
        abort();
    if (rc == 0 && pick == 7 && (unsigned)q.sort >= DEVQUERY_COLUMNS)
        abort();
    if (rc == 0 && pick < 7 &&
        memchr(devquery_filter_get(&q, devquery_filter_names[pick]), '\0', DEVQUERY_TEXT_MAX) ==
            NULL)
        abort();
    free(text);
    return 0;
}
