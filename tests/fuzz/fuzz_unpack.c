/* fuzz_unpack.c: libFuzzer target for unpack_walk(). The first input byte
 * picks the bundle kind (file name suffix), the rest becomes that file under
 * /tmp (one name per process); a callback reads every entry and checks what
 * the walk hands out. Writes nothing but that one scratch file. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/firmware/unpack.h"

#define FUZZ_READ 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_suffixes[] = {".tgz", ".zip", ".tar", ".cop.sgn", ".loads"};

struct fuzz_walk {
    unsigned entries;
    unsigned refuse_at; /* the callback refuses this entry (1-based), 0: never */
    bool refused;
    bool loose;
};

/* A name the walk hands out is flat, short, and free of control bytes. */
static void fuzz_check_entry(const struct unpack_entry *e, bool loose)
{
    size_t n = strlen(e->name), m = strlen(e->path);

    if (n == 0 || n > 255 || strcmp(e->name, "..") == 0 || strchr(e->name, '/') != NULL)
        abort();
    if (m < n || strcmp(e->path + m - n, e->name) != 0)
        abort();
    if (loose)
        return; /* a loose file is named by the walker's own path */
    if (strchr(e->name, '\\') != NULL || e->path[0] == '/' || e->path[0] == '\\')
        abort();
    for (const char *p = e->path; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
}

static int fuzz_entry(void *arg, const struct unpack_entry *e, struct unpack_stream *s, char *why,
                      size_t why_cap)
{
    struct fuzz_walk *fw = arg;
    static uint8_t buf[FUZZ_READ];
    uint64_t total = 0;
    long n;

    fuzz_check_entry(e, fw->loose);
    if (++fw->entries > UNPACK_ENTRIES_MAX)
        abort();
    if (fw->entries == fw->refuse_at) {
        snprintf(why, why_cap, "fuzz refuses %u", fw->entries);
        fw->refused = true;
        return -1;
    }
    while ((n = unpack_stream_read(s, buf, sizeof(buf))) > 0) {
        if ((size_t)n > sizeof(buf))
            abort();
        total += (uint64_t)n;
    }
    if (total > UNPACK_ENTRY_MAX)
        abort();
    if (n < 0) {
        if (n < UNPACK_CALLBACK || unpack_stream_read(s, buf, sizeof(buf)) != n)
            abort(); /* errors are unpack_results and sticky */
        return -1;
    }
    return 0;
}

static void fuzz_check_result(int rc, const char *why, const struct fuzz_walk *fw)
{
    if (rc > UNPACK_OK || rc < UNPACK_CALLBACK)
        abort();
    if (strlen(why) >= UNPACK_WHY_MAX)
        abort();
    if (rc != UNPACK_OK && why[0] == '\0')
        abort();
    /* the callback's refusal comes back as UNPACK_CALLBACK with its words */
    if (fw->refused && (rc != UNPACK_CALLBACK || strncmp(why, "fuzz refuses ", 13) != 0))
        abort();
    if (!fw->refused && rc == UNPACK_CALLBACK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_walk fw = {0, 0, false, false};
    char path[128], why[UNPACK_WHY_MAX];
    unsigned kind;
    long hlen;
    int fd, rc;

    if (size < 1)
        return 0;
    kind = data[0] % (sizeof(fuzz_suffixes) / sizeof(fuzz_suffixes[0]));
    fw.refuse_at = (data[0] >> 4) & 3; /* 0: never; else the Nth entry */
    fw.loose = kind == 4;
    snprintf(path, sizeof(path), "/tmp/fuzz-unpack-%ld%s", (long)getpid(), fuzz_suffixes[kind]);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
        abort();
    close(fd);
    hlen = unpack_cop_header_len(path);
    if (hlen > (long)(size - 1) || (hlen > 0 && hlen % 4 != 0) || hlen < UNPACK_CALLBACK)
        abort();
    rc = unpack_walk(path, fuzz_entry, &fw, why, sizeof(why));
    fuzz_check_result(rc, why, &fw);
    unlink(path);
    return 0;
}
