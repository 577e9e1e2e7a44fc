/* fuzz_config.c: libFuzzer target for the config-file parser: the bytes
 * become a loadsd.conf, loaded over the defaults; whatever it says, the
 * parser returns 0 or -1 and leaves every value within its documented range. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const struct loadsd_config *c)
{
    if (c->tftp_listen_count > CONFIG_LISTEN_MAX || c->max_blksize < 8 || c->max_blksize > 65464 ||
        c->max_windowsize < 1 || c->max_windowsize > 65535 || c->retries < 1 || c->retries > 20 ||
        c->timeout_ms < 100 || c->timeout_ms > 60000 || c->threads > 256 || c->max_transfers < 1)
        abort();
    if (c->max_unacked < 1 || c->max_unacked > 100000 || c->max_unacked_per_prefix < 1 ||
        c->max_unacked_per_prefix > 100000)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static struct loadsd_config c;
    char err[256];
    FILE *f;

    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/fuzz-config-%d.conf", (int)getpid());
    f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    if (size > 0 && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    fclose(f);
    config_defaults(&c);
    if (config_load_file(&c, path, true, err, sizeof(err)) != 0 && err[0] == '\0')
        abort(); /* a refusal always says why */
    check_ranges(&c);
    return 0;
}
