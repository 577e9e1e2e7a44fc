/* inventory.c: the firmware inventory table: phones sorted by MAC and an
 * address index sorted by address, under one mutex; noted by the TFTP and
 * HTTP workers, flushed by genwatch's thread through db/inventory.c. Never
 * blocks a worker on the database. */
#include "server/resolve/inventory.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/inventory.h"
#include "lib/log.h"
#include "lib/sorted.h"
#include "server/resolve/seen.h"

struct inv_phone {
    struct inventory_row row;                /* row.mac is the key */
    uint64_t done[INVENTORY_FILES_MAX / 64]; /* which files of row.fw_load finished */
    bool dirty;
    int64_t written; /* when it was last taken to be written */
};

struct inv_addr {
    char addr[INVENTORY_ADDR_MAX]; /* the key */
    char mac[13];
};

/* An address with no known MAC and what its transfers came to. */
struct inv_stranger {
    struct inventory_addr_row row;           /* row.addr is the key */
    uint64_t done[INVENTORY_FILES_MAX / 64]; /* which files of row.load finished */
};

struct inventory {
    pthread_mutex_t lock;
    struct inv_stranger *strangers; /* sorted by addr; at most INVENTORY_STRANGERS_MAX */
    size_t n_strangers, cap_strangers;
    uint64_t finished;        /* loads a stranger finished, counted */
    struct inv_phone *phones; /* sorted by mac */
    size_t n, cap;
    struct inv_addr *addrs; /* sorted by addr */
    size_t n_addrs, cap_addrs;
    struct inventory_row flush[INVENTORY_FLUSH_MAX]; /* the flushing thread's copy */
};

struct inventory *inventory_new(void)
{
    struct inventory *inv = calloc(1, sizeof(*inv));

    if (inv != NULL && pthread_mutex_init(&inv->lock, NULL) != 0) {
        free(inv);
        inv = NULL;
    }
    return inv;
}

void inventory_free(struct inventory *inv)
{
    if (inv == NULL)
        return;
    pthread_mutex_destroy(&inv->lock);
    free(inv->phones);
    free(inv->addrs);
    free(inv->strangers);
    free(inv);
}

/* The phone mac, added when new (the lock held). NULL when full. */
static struct inv_phone *phone_get(struct inventory *inv, const char *mac)
{
    bool found;
    size_t i = sorted_find(inv->phones, inv->n, sizeof(*inv->phones),
                           offsetof(struct inv_phone, row.mac), mac, &found);

    if (found)
        return &inv->phones[i];
    if (inv->n >= INVENTORY_PHONES_MAX ||
        sorted_insert((void **)&inv->phones, &inv->cap, inv->n, sizeof(*inv->phones), i, 256) != 0)
        return NULL;
    inv->n++;
    memcpy(inv->phones[i].row.mac, mac, 12);
    snprintf(inv->phones[i].row.source, sizeof(inv->phones[i].row.source), "central");
    return &inv->phones[i];
}

/* addr now belongs to mac (the lock held); a full table keeps the old. */
static void addr_set(struct inventory *inv, const char *addr, const char *mac)
{
    bool found;
    size_t i = sorted_find(inv->addrs, inv->n_addrs, sizeof(*inv->addrs),
                           offsetof(struct inv_addr, addr), addr, &found);

    if (!found) {
        if (inv->n_addrs >= INVENTORY_PHONES_MAX ||
            sorted_insert((void **)&inv->addrs, &inv->cap_addrs, inv->n_addrs, sizeof(*inv->addrs),
                          i, 256) != 0)
            return;
        inv->n_addrs++;
        snprintf(inv->addrs[i].addr, sizeof(inv->addrs[i].addr), "%s", addr);
    }
    memcpy(inv->addrs[i].mac, mac, 13);
}

/* The phone whose latest config fetch came from addr (the lock held): a
 * phone that moved since is not joined to its old address. */
static struct inv_phone *phone_at(struct inventory *inv, const char *addr)
{
    bool found;
    size_t i = sorted_find(inv->addrs, inv->n_addrs, sizeof(*inv->addrs),
                           offsetof(struct inv_addr, addr), addr, &found);
    size_t k;

    if (!found)
        return NULL;
    k = sorted_find(inv->phones, inv->n, sizeof(*inv->phones), offsetof(struct inv_phone, row.mac),
                    inv->addrs[i].mac, &found);
    return found && strcmp(inv->phones[k].row.addr, addr) == 0 ? &inv->phones[k] : NULL;
}

static void mark(struct inv_phone *p)
{
    p->dirty = true;
}

void inventory_note_config(struct inventory *inv, const char *mac, const struct sockaddr *client,
                           const char *load, int64_t now)
{
    char addr[INVENTORY_ADDR_MAX];
    struct inv_phone *p;

    if (inv == NULL || client == NULL || mac == NULL || strlen(mac) != 12 || load == NULL ||
        strlen(load) >= INVENTORY_LOAD_MAX || seen_addr_text(client, addr, sizeof(addr)) != 0)
        return;
    pthread_mutex_lock(&inv->lock);
    p = phone_get(inv, mac);
    if (p != NULL) {
        memcpy(p->row.addr, addr, sizeof(addr));
        p->row.config_at = now;
        snprintf(p->row.config_load, sizeof(p->row.config_load), "%s", load);
        addr_set(inv, addr, mac);
        mark(p);
    }
    pthread_mutex_unlock(&inv->lock);
}

/* The phone's load becomes load (total files): its finished files start
 * over (the lock held). */
static void load_switch(struct inv_phone *p, const char *load, unsigned total, int64_t now)
{
    snprintf(p->row.fw_load, sizeof(p->row.fw_load), "%s", load);
    p->row.files_total = total;
    p->row.files_done = 0;
    p->row.fw_first = now;
    memset(p->done, 0, sizeof(p->done));
}

/* The hit that is the current load, else the first. */
static const struct inventory_hit *hit_pick(const char *current, const struct inventory_hit *hits,
                                            size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(hits[i].load, current) == 0)
            return &hits[i];
    return &hits[0];
}

/* File index of a load finished: marked in done, counted in *files_done
 * the first time. Whether it was new. */
static bool file_done(uint64_t *done, unsigned *files_done, unsigned index)
{
    uint64_t bit = (uint64_t)1 << (index % 64);

    if (index >= INVENTORY_FILES_MAX || (done[index / 64] & bit) != 0)
        return false;
    done[index / 64] |= bit;
    (*files_done)++;
    return true;
}

/* The index of the stranger whose last transfer is the oldest (n > 0). */
static size_t stranger_oldest(const struct inventory *inv)
{
    size_t k = 0;

    for (size_t i = 1; i < inv->n_strangers; i++)
        if (inv->strangers[i].row.at < inv->strangers[k].row.at)
            k = i;
    return k;
}

/* The stranger at addr, added when new; a full table drops its oldest
 * first (the lock held). NULL when out of memory. */
static struct inv_stranger *stranger_get(struct inventory *inv, const char *addr)
{
    bool found;
    size_t i = sorted_find(inv->strangers, inv->n_strangers, sizeof(*inv->strangers),
                           offsetof(struct inv_stranger, row.addr), addr, &found);
    size_t old;

    if (found)
        return &inv->strangers[i];
    if (inv->n_strangers >= INVENTORY_STRANGERS_MAX) {
        old = stranger_oldest(inv);
        memmove(&inv->strangers[old], &inv->strangers[old + 1],
                (inv->n_strangers - old - 1) * sizeof(*inv->strangers));
        inv->n_strangers--;
        if (old < i)
            i--;
    }
    if (sorted_insert((void **)&inv->strangers, &inv->cap_strangers, inv->n_strangers,
                      sizeof(*inv->strangers), i, 256) != 0)
        return NULL;
    inv->n_strangers++;
    snprintf(inv->strangers[i].row.addr, sizeof(inv->strangers[i].row.addr), "%s", addr);
    return &inv->strangers[i];
}

/* A transfer to addr, an address no config fetch came from, ended (the lock
 * held): kept per address as a phone's would be per MAC. */
static void stranger_note(struct inventory *inv, const char *addr, const struct inventory_hit *hits,
                          size_t n, bool complete, int64_t now)
{
    struct inv_stranger *s = stranger_get(inv, addr);
    const struct inventory_hit *h;

    if (s == NULL)
        return;
    h = hit_pick(s->row.load, hits, n);
    if (strcasecmp(h->load, s->row.load) != 0 && strlen(h->load) < INVENTORY_LOAD_MAX) {
        snprintf(s->row.load, sizeof(s->row.load), "%s", h->load);
        s->row.files_total = h->total;
        s->row.files_done = 0;
        memset(s->done, 0, sizeof(s->done));
    }
    s->row.at = now;
    if (complete && file_done(s->done, &s->row.files_done, h->index) &&
        s->row.files_done == s->row.files_total)
        inv->finished++;
}

static int row_newer(const void *a, const void *b)
{
    const struct inventory_addr_row *x = a, *y = b;

    return x->at != y->at ? (x->at < y->at ? 1 : -1) : strcmp(x->addr, y->addr);
}

int inventory_addr_snapshot(struct inventory *inv, size_t max, struct inventory_addr_row **rows,
                            size_t *n, uint64_t *finished)
{
    struct inventory_addr_row *v = NULL;
    size_t k;

    *rows = NULL;
    *n = 0;
    if (inv == NULL)
        return 0;
    pthread_mutex_lock(&inv->lock);
    k = inv->n_strangers;
    if (k > 0 && (v = malloc(k * sizeof(*v))) == NULL) {
        pthread_mutex_unlock(&inv->lock);
        return -1;
    }
    for (size_t i = 0; i < k; i++)
        v[i] = inv->strangers[i].row;
    if (finished != NULL)
        *finished = inv->finished;
    pthread_mutex_unlock(&inv->lock);
    if (k > 0)
        qsort(v, k, sizeof(*v), row_newer);
    *rows = v;
    *n = k < max ? k : max;
    return 0;
}

uint64_t inventory_addr_finished(struct inventory *inv)
{
    uint64_t f;

    if (inv == NULL)
        return 0;
    pthread_mutex_lock(&inv->lock);
    f = inv->finished;
    pthread_mutex_unlock(&inv->lock);
    return f;
}

void inventory_note_file(struct inventory *inv, const struct sockaddr *client,
                         const struct inventory_hit *hits, size_t n, bool complete, int64_t now)
{
    char addr[INVENTORY_ADDR_MAX];
    const struct inventory_hit *h;
    struct inv_phone *p;

    if (inv == NULL || client == NULL || n == 0 || seen_addr_text(client, addr, sizeof(addr)) != 0)
        return;
    pthread_mutex_lock(&inv->lock);
    p = phone_at(inv, addr);
    if (p != NULL) {
        h = hit_pick(p->row.fw_load, hits, n);
        if (strcasecmp(h->load, p->row.fw_load) != 0 && strlen(h->load) < INVENTORY_LOAD_MAX)
            load_switch(p, h->load, h->total, now);
        if (complete)
            file_done(p->done, &p->row.files_done, h->index);
        p->row.fw_last = now;
        snprintf(p->row.source, sizeof(p->row.source), "central");
        mark(p);
    } else {
        stranger_note(inv, addr, hits, n, complete, now);
    }
    pthread_mutex_unlock(&inv->lock);
}

int inventory_merge(struct inventory *inv, const char *addr, const char *load, unsigned files_done,
                    unsigned files_total, int64_t at, const char *source)
{
    struct inv_phone *p;
    int rc = -1;

    if (inv == NULL || addr == NULL || load == NULL || source == NULL || load[0] == '\0' ||
        strlen(load) >= INVENTORY_LOAD_MAX || strlen(source) >= sizeof(p->row.source) ||
        source[0] == '\0' || files_total == 0 || files_done > files_total)
        return -1;
    pthread_mutex_lock(&inv->lock);
    p = phone_at(inv, addr);
    if (p != NULL) {
        if (strcasecmp(load, p->row.fw_load) != 0)
            load_switch(p, load, files_total, at);
        p->row.files_total = files_total;
        p->row.files_done = files_done;
        p->row.fw_last = at;
        snprintf(p->row.source, sizeof(p->row.source), "%s", source);
        mark(p);
        rc = 0;
    }
    pthread_mutex_unlock(&inv->lock);
    return rc;
}

/* Copies up to max rows due to be written and marks them taken (the lock
 * held). A phone's row waits INVENTORY_WRITE_S after its last write. */
static size_t take(struct inventory *inv, struct inventory_row *rows, size_t max, int64_t now)
{
    size_t n = 0;

    for (size_t i = 0; i < inv->n && n < max; i++) {
        struct inv_phone *p = &inv->phones[i];

        if (!p->dirty || (p->written != 0 && now - p->written < INVENTORY_WRITE_S))
            continue;
        rows[n++] = p->row;
        p->dirty = false;
        p->written = now;
    }
    return n;
}

/* After a failed write the rows taken are due again (the lock held). */
static void untake(struct inventory *inv, const struct inventory_row *rows, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        bool found;
        size_t i = sorted_find(inv->phones, inv->n, sizeof(*inv->phones),
                               offsetof(struct inv_phone, row.mac), rows[k].mac, &found);

        if (found) {
            inv->phones[i].dirty = true;
            inv->phones[i].written = 0;
        }
    }
}

void inventory_flush(struct inventory *inv, sqlite3 *db, int64_t now)
{
    size_t n;

    if (inv == NULL)
        return;
    pthread_mutex_lock(&inv->lock);
    n = take(inv, inv->flush, INVENTORY_FLUSH_MAX, now);
    pthread_mutex_unlock(&inv->lock);
    if (n == 0 || inventory_record(db, inv->flush, n) == DB_OK)
        return;
    log_warn("cannot record the firmware inventory of %zu phone(s); trying again", n);
    pthread_mutex_lock(&inv->lock);
    untake(inv, inv->flush, n);
    pthread_mutex_unlock(&inv->lock);
}
