/* cnf_source.c: serves SEP<MAC>.cnf.xml and XMLDefault.cnf.xml rendered per
 * request from an immutable provisioning snapshot (swapped in by a watcher
 * thread polling the generation counter), through a sealed memfd. Requests
 * take a reference under a mutex once; rendering runs without any lock. Its
 * one write: after a rebuild, each device's last complete load given. */
#include "server/resolve/cnf_source.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/provision.h"
#include "lib/log.h"
#include "server/cnf/cnf.h"
#include "server/resolve/genwatch.h"

struct cnf_snap {
    atomic_int refs;
    struct settings_snapshot *s;
};

struct cnf_source {
    pthread_mutex_t lock; /* cur */
    struct genwatch *gw;  /* rebuilds the snapshot when the generation moves */
    struct cnf_snap *cur;
};

static void snap_unref(struct cnf_snap *sn)
{
    if (sn == NULL || atomic_fetch_sub(&sn->refs, 1) != 1)
        return;
    provision_snapshot_free(sn->s);
    free(sn);
}

static struct cnf_snap *snap_build(sqlite3 *db)
{
    struct cnf_snap *sn = calloc(1, sizeof(*sn));

    if (sn == NULL)
        return NULL;
    atomic_init(&sn->refs, 1);
    if (provision_snapshot_load(db, &sn->s) != DB_OK) {
        free(sn);
        return NULL;
    }
    return sn;
}

static struct cnf_snap *snap_get(struct cnf_source *cs)
{
    struct cnf_snap *sn;

    pthread_mutex_lock(&cs->lock);
    sn = cs->cur;
    if (sn != NULL)
        atomic_fetch_add(&sn->refs, 1);
    pthread_mutex_unlock(&cs->lock);
    return sn;
}

/* The rendered bytes in a sealed memfd, positioned at 0. */
static int memfd_from(const char *name, const struct cnf_buf *b, struct resolver_file *out)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    size_t done = 0;

    if (fd < 0)
        return RESOLVER_IO;
    while (done < b->len) {
        ssize_t n = write(fd, b->data + done, b->len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return RESOLVER_IO;
        }
        done += (size_t)n;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return RESOLVER_IO;
    }
    out->fd = fd;
    out->size = b->len;
    out->source = "generated config";
    out->generated = true;
    return RESOLVER_OK;
}

/* Renders the file a request names, or says why not. */
static int source_render(const struct settings_snapshot *s, const char *name,
                         const struct sockaddr *client, struct cnf_buf *b)
{
    char mac[SETTINGS_MAC_LEN + 1];
    int rc;

    switch (cnf_name_parse(name, mac)) {
    case CNF_NAME_DEFAULT:
        rc = cnf_render_default(s, b);
        break;
    case CNF_NAME_DEVICE:
        rc = cnf_render_mac(s, mac, client, b);
        if (rc == CNF_INVALID)
            log_error("SEP%s.cnf.xml: its profile's template fails the check; not served", mac);
        break;
    default:
        return RESOLVER_NOT_FOUND;
    }
    if (rc == CNF_UNKNOWN)
        return RESOLVER_NOT_FOUND;
    if (rc == CNF_INVALID)
        return RESOLVER_UNAVAILABLE;
    return rc == CNF_OK ? RESOLVER_OK : RESOLVER_IO;
}

static int source_open(void *ctx, const char *name, const struct sockaddr *client,
                       struct resolver_file *out)
{
    struct cnf_source *cs = ctx;
    struct cnf_snap *sn = snap_get(cs);
    struct cnf_buf b = {0};
    int rc = RESOLVER_NOT_FOUND;

    if (sn == NULL)
        goto out;
    rc = source_render(sn->s, name, client, &b);
    if (rc == RESOLVER_OK)
        rc = memfd_from(name, &b, out);
out:
    cnf_buf_free(&b);
    snap_unref(sn);
    return rc;
}

static void swap_in(struct cnf_source *cs, struct cnf_snap *sn)
{
    struct cnf_snap *old;

    pthread_mutex_lock(&cs->lock);
    old = cs->cur;
    cs->cur = sn;
    pthread_mutex_unlock(&cs->lock);
    snap_unref(old);
    log_info("config snapshot generation %lld: %zu devices, %zu profiles, %zu site rules",
             (long long)sn->s->generation, sn->s->n_devices, sn->s->n_profiles, sn->s->n_sites);
}

/* genwatch's callback: a new snapshot at the current generation. */
static int rebuild(void *arg, sqlite3 *db)
{
    struct cnf_source *cs = arg;
    struct cnf_snap *sn = snap_build(db);
    unsigned given = 0;

    if (sn == NULL)
        return -1;
    swap_in(cs, sn);
    /* What the configs name now is what each phone is given: remember it,
     * to hold the phone there if that load stops being servable. The write
     * moves the generation once more; the next rebuild finds nothing new. */
    if (provision_record_given(db, sn->s, &given) != DB_OK)
        log_warn("cannot record the loads the phones' configs name");
    else if (given > 0)
        log_debug("recorded the load %u device(s) are given now", given);
    return 0;
}

int cnf_source_open(const char *data_dir, struct cnf_source **out)
{
    struct cnf_source *cs = calloc(1, sizeof(*cs));
    char path[4200];

    if (cs == NULL)
        return -1;
    pthread_mutex_init(&cs->lock, NULL);
    snprintf(path, sizeof(path), "%s/catalog.db", data_dir);
    if (genwatch_start(path, CNF_SOURCE_POLL_MS, rebuild, cs, &cs->gw) != 0)
        goto fail;
    *out = cs;
    return 0;
fail:
    log_error("cannot serve generated config files from %s", data_dir);
    cnf_source_free(cs);
    return -1;
}

int cnf_source_attach(struct cnf_source *cs, struct resolver *r)
{
    struct resolver_source src = {"generated config", source_open, NULL, cs};

    return resolver_add_source(r, &src);
}

int64_t cnf_source_generation(struct cnf_source *cs)
{
    struct cnf_snap *sn = snap_get(cs);
    int64_t g = sn != NULL ? sn->s->generation : -1;

    snap_unref(sn);
    return g;
}

void cnf_source_free(struct cnf_source *cs)
{
    if (cs == NULL)
        return;
    genwatch_stop(cs->gw);
    snap_unref(cs->cur);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}
