/* seen.c: the devices' last request addresses: a sorted array under one
 * mutex, noted by the TFTP and HTTP workers and flushed by genwatch's thread
 * through db/provision.c. Never blocks a worker on the database. */
#include "server/resolve/seen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/provision.h"
#include "lib/log.h"
#include "lib/sorted.h"

struct seen_entry {
    struct provision_seen row;
    bool dirty;     /* changed since it was last written */
    int64_t marked; /* when it was last marked to be written */
};

struct seen_table {
    pthread_mutex_t lock;
    struct seen_entry *items; /* sorted by mac */
    size_t n, cap;
    size_t n_dirty;
    struct provision_seen flush[SEEN_FLUSH_MAX]; /* the flushing thread's copy */
};

struct seen_table *seen_table_new(void)
{
    struct seen_table *t = calloc(1, sizeof(*t));

    if (t != NULL && pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        t = NULL;
    }
    return t;
}

void seen_table_free(struct seen_table *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->items);
    free(t);
}

int seen_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

    if (sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                         (socklen_t)cap) != NULL
                   ? 0
                   : -1;
    if (sa->sa_family != AF_INET6)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
        return inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], out, (socklen_t)cap) != NULL ? 0 : -1;
    return inet_ntop(AF_INET6, &v6->sin6_addr, out, (socklen_t)cap) != NULL ? 0 : -1;
}

/* The index of mac, or where it would go (*found false). */
static size_t seen_find(const struct seen_table *t, const char *mac, bool *found)
{
    return sorted_find(t->items, t->n, sizeof(*t->items), offsetof(struct seen_entry, row.mac), mac,
                       found);
}

/* A new entry at i (the lock held). NULL when full or out of memory. */
static struct seen_entry *seen_insert(struct seen_table *t, size_t i, const char *mac)
{
    if (t->n >= SEEN_DEVICES_MAX ||
        sorted_insert((void **)&t->items, &t->cap, t->n, sizeof(*t->items), i, 256) != 0)
        return NULL;
    t->n++;
    memcpy(t->items[i].row.mac, mac, SETTINGS_MAC_LEN);
    return &t->items[i];
}

void seen_table_note(struct seen_table *t, const char *mac, const struct sockaddr *from,
                     int64_t now)
{
    char addr[PROVISION_ADDR_MAX];
    struct seen_entry *e;
    bool found;
    size_t i;

    if (t == NULL || from == NULL || strlen(mac) != SETTINGS_MAC_LEN ||
        seen_addr_text(from, addr, sizeof(addr)) != 0)
        return;
    pthread_mutex_lock(&t->lock);
    i = seen_find(t, mac, &found);
    e = found ? &t->items[i] : seen_insert(t, i, mac);
    /* A new address is written; an unchanged one again now and then, so
     * that a row the database lost (its device removed and added again)
     * comes back. The write keeps an existing row's "since". */
    if (e != NULL && (strcmp(e->row.addr, addr) != 0 || now - e->marked >= SEEN_REFRESH_S)) {
        if (strcmp(e->row.addr, addr) != 0) {
            memcpy(e->row.addr, addr, sizeof(addr));
            e->row.at = now;
        }
        e->marked = now;
        t->n_dirty += !e->dirty;
        e->dirty = true;
    }
    pthread_mutex_unlock(&t->lock);
}

/* Copies up to max changed rows out and marks them written (the lock held). */
static size_t seen_take(struct seen_table *t, struct provision_seen *rows, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < t->n && n < max && t->n_dirty > 0; i++) {
        if (!t->items[i].dirty)
            continue;
        rows[n++] = t->items[i].row;
        t->items[i].dirty = false;
        t->n_dirty--;
    }
    return n;
}

/* After a failed write: rows whose address is still the one noted are
 * changed again (the lock held). */
static void seen_untake(struct seen_table *t, const struct provision_seen *rows, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        bool found;
        size_t i = seen_find(t, rows[k].mac, &found);

        if (found && !t->items[i].dirty && strcmp(t->items[i].row.addr, rows[k].addr) == 0) {
            t->items[i].dirty = true;
            t->n_dirty++;
        }
    }
}

void seen_table_flush(struct seen_table *t, sqlite3 *db)
{
    struct provision_seen *rows;
    size_t n;

    if (t == NULL)
        return;
    rows = t->flush;
    pthread_mutex_lock(&t->lock);
    n = seen_take(t, rows, SEEN_FLUSH_MAX);
    pthread_mutex_unlock(&t->lock);
    if (n == 0 || provision_seen_record(db, rows, n) == DB_OK)
        return;
    log_warn("cannot record where %zu phone(s) asked for their config from; trying again", n);
    pthread_mutex_lock(&t->lock);
    seen_untake(t, rows, n);
    pthread_mutex_unlock(&t->lock);
}
