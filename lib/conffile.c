/* conffile.c: splitting configuration file lines, and reading one key's
 * value from a whole file. Reads files; never writes. */
#include "lib/conffile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"

static char *conffile_trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = '\0';
    return s;
}

int conffile_split(char *line, size_t len, char **key, char **value, const char **why)
{
    char *eq = memchr(line, '=', len);
    char *k, *v;
    size_t vlen;

    if (memchr(line, '\0', len) != NULL) {
        *why = "NUL byte in line";
        return -1;
    }
    k = conffile_trim(line, line + len);
    if (k[0] == '\0' || k[0] == '#')
        return 0;
    if (eq == NULL) {
        *why = "expected \"key = value\"";
        return -1;
    }
    k = conffile_trim(k, eq);
    v = conffile_trim(eq + 1, line + len);
    vlen = strlen(v);
    if (vlen > 0 && v[0] == '"') {
        if (vlen < 2 || v[vlen - 1] != '"') {
            *why = "unterminated quote";
            return -1;
        }
        v[vlen - 1] = '\0';
        v++;
    }
    *key = k;
    *value = v;
    return 1;
}

/* Finds key in buf (len bytes, NUL-terminated): 0 found, 1 not, -1 bad line. */
static int conffile_scan(const char *path, char *buf, size_t len, const char *key, char *out,
                         size_t cap, char *err, size_t errlen)
{
    size_t lineno = 0;
    int found = 1;

    for (char *line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        char *end = nl != NULL ? nl : buf + len;
        const char *why = "line too long";
        char *k, *v;
        int rc = -1;

        lineno++;
        *end = '\0';
        if ((size_t)(end - line) <= CONFFILE_LINE_MAX)
            rc = conffile_split(line, (size_t)(end - line), &k, &v, &why);
        if (rc < 0) {
            snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
            return -1;
        }
        if (rc == 1 && strcmp(k, key) == 0) {
            snprintf(out, cap, "%s", v);
            found = 0;
        }
        line = end + 1;
    }
    return found;
}

int conffile_get(const char *path, const char *key, char *out, size_t cap, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = fileio_read_file(path, CONFFILE_MAX, &buf, &len);

    if (rc == -ENOENT)
        return 1;
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, rc == -EFBIG ? "too large" : strerror(-rc));
        return -1;
    }
    rc = conffile_scan(path, buf, len, key, out, cap, err, errlen);
    free(buf);
    return rc;
}
