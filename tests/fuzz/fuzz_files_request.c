/* fuzz_files_request.c: libFuzzer target for the HTTP file service's request
 * parsing (path escapes and kind, Range, entity tags, dates): never a fault,
 * an unescaped path never holds a control byte, a load name in a manifest
 * path is one printable component, a range never leaves the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/files/files_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(char *s)
{
    char arg[FILES_ARG_MAX];
    enum files_target kind;
    size_t n = files_unescape(s);

    if (n != strlen(s))
        abort();
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20)
            abort();
    }
    kind = files_target_parse(s, arg);
    if (kind == FILES_TARGET_BLOB && strlen(arg) != FILES_HEX_LEN)
        abort();
    /* A load name is one printable path component within its limit. */
    if (kind == FILES_TARGET_LOAD &&
        (strlen(arg) == 0 || strlen(arg) > FILES_LOAD_NAME_MAX || strpbrk(arg, "/\\\x7f") != NULL))
        abort();
}

static void check_range(const char *s, uint64_t size)
{
    struct files_range r;

    if (files_range_parse(s, size, &r) == FILES_RANGE_ONE && (r.first > r.last || r.last >= size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    time_t t;

    if (size > 4 * FILES_PATH_MAX)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_range(s, 0);
    check_range(s, 100);
    check_range(s, 5ull << 30);
    files_etag_listed(s, "\"sha256-0\"");
    files_if_range_holds(s, "\"sha256-0\"", 0);
    files_date_parse(s, &t);
    check_path(s);
    free(s);
    return 0;
}
