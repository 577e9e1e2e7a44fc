/* sorted.c: binary search and ordered insert over arrays of records sorted
 * by a string key; the records' meaning stays with their owners. */
#include "lib/sorted.h"

#include <string.h>

#include "lib/grow.h"

size_t sorted_find_by(const void *v, size_t n, size_t size,
                      int (*cmp)(const void *record, const void *key), const void *key, bool *found)
{
    const char *base = v;
    size_t lo = 0, hi = n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp(base + mid * size, key);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* sorted_find's key: the offset of the string in each record, and the string. */
struct string_key {
    size_t off;
    const char *text;
};

static int string_cmp(const void *record, const void *key)
{
    const struct string_key *k = key;

    return strcmp((const char *)record + k->off, k->text);
}

size_t sorted_find(const void *v, size_t n, size_t size, size_t key_off, const char *key,
                   bool *found)
{
    struct string_key k = {key_off, key};

    return sorted_find_by(v, n, size, string_cmp, &k, found);
}

int sorted_insert(void **v, size_t *cap, size_t n, size_t size, size_t i, size_t first)
{
    int rc = grow_array(v, cap, n + 1, size, first);
    char *base;

    if (rc != 0)
        return rc;
    base = *v;
    memmove(base + (i + 1) * size, base + i * size, (n - i) * size);
    memset(base + i * size, 0, size);
    return 0;
}
