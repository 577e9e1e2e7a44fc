/* xmllint.c: runs xmllint over bytes written to a private temp file, which
 * it removes again; needs no test framework. */
#include "tests/unit/xmllint.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fileio.h"

/* Writes len bytes to a new temp file: its path in path. 0 or -1. */
static int write_temp(const char *data, size_t len, char path[64])
{
    int fd, rc;

    snprintf(path, 64, "/tmp/test_xmllint.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    rc = fileio_write_all(fd, data, len);
    close(fd);
    if (rc != 0)
        unlink(path);
    return rc == 0 ? 0 : -1;
}

int xmllint_status(const char *data, size_t len)
{
    char path[64], cmd[160];
    int st;

    if (write_temp(data, len, path) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "xmllint --noout %s 2>/dev/null", path);
    st = system(cmd);
    unlink(path);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) == 127) /* 127: no xmllint */
        return -1;
    return WEXITSTATUS(st);
}

int xmllint_xpath(const char *data, size_t len, const char *expr, char *out, size_t cap)
{
    char path[64], cmd[512];
    FILE *p;
    size_t n;
    int rc = -1;

    if (write_temp(data, len, path) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "xmllint --xpath \"string(%s)\" %s 2>/dev/null", expr, path);
    p = popen(cmd, "r");
    if (p != NULL) {
        n = fread(out, 1, cap - 1, p);
        if (n > 0 && out[n - 1] == '\n') /* xmllint ends the string with a newline */
            n--;
        out[n] = '\0';
        rc = pclose(p) == 0 ? 0 : -1;
    }
    unlink(path);
    return rc;
}
