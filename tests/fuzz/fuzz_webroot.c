/* fuzz_webroot.c: libFuzzer target for webroot_normalize(), which turns a
 * request path into a name under the web root: never a fault, and never a
 * result with "..", a leading "/" or a hidden segment. Never opens a file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/webroot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[WEBROOT_PATH_MAX];
    char *copy;

    if (size > 2 * WEBROOT_PATH_MAX)
        return 0;
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    if (webroot_normalize(copy, out, sizeof(out)) == WEBROOT_OK) {
        if (out[0] == '/' || out[0] == '.' || strstr(out, "/.") != NULL ||
            strchr(out, '\\') != NULL || strlen(out) >= sizeof(out))
            abort();
    }
    free(copy);
    return 0;
}
