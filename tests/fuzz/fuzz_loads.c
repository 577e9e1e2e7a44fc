/* fuzz_loads.c: libFuzzer target for loads_parse(). Checks that an accepted
 * list holds only names the TFTP namespace can serve; must not touch files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/firmware/loads_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_loads_check_name(const struct loads_entry *e)
{
    size_t n = strlen(e->name);

    if (n == 0 || n > LOADS_NAME_MAX || strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
        abort();
    if (strpbrk(e->name, "/\\ \t") != NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)e->name[i] < 0x20 || e->name[i] == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct loads_list list;
    unsigned line = 0;
    const char *why = NULL;
    int rc = loads_parse(data, size, &list, &line, &why);

    if (rc != 0) {
        if (why == NULL || rc < LOADS_EMPTY)
            abort();
        return 0;
    }
    if (list.count == 0 || list.count > LOADS_ENTRIES_MAX || why != NULL || line != 0)
        abort();
    for (size_t i = 0; i < list.count; i++) {
        fuzz_loads_check_name(&list.entries[i]);
        if (list.entries[i].line == 0 || (list.entries[i].extra && !list.entries[i].has_size))
            abort();
    }
    return 0;
}
