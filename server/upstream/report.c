/* report.c: the branch's reporter thread: what the catalog and the pull
 * engine hold, POSTed to the central (report_json.c) on its schedule and
 * soon after a change; between reports the want list polled by its tag
 * (a 304 while it stands); the loads the central wants handed to the pull
 * engine. Logs a line when how it stands changes, never one per report. */
#include "server/upstream/report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "db/catalog.h"
#include "db/db.h"
#include "lib/fileio.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/sizes.h"
#include "server/upstream/fetch.h"

#define REPORT_PATH      "/api/v1/fleet/report"
#define WANT_PATH        "/api/v1/fleet/want"
#define REPORT_TICK_S    1  /* how often the thread looks for a change */
#define REPORT_TIMEOUT_S 30 /* one report, connection to answer */
#define REPORT_CONNECT_S 10
#define TOKEN_FILE_MAX   4096

struct fleet_reporter {
    pthread_t thread;
    pthread_mutex_t lock; /* guards the settings and st */
    pthread_cond_t cond;
    atomic_bool stop;
    char central[UPSTREAM_BASE_MAX];
    char ca_file[PATH_BUF];
    char token[REPORT_TOKEN_MAX + 1];
    char data_dir[PATH_BUF];
    struct pull_engine *pull;
    struct inventory *inv; /* its phones' fetches; NULL: none */
    struct fleet_reporter_status st;
    bool kick; /* the settings changed: report at once */
    /* the thread's own, no lock: */
    sqlite3 *db;
    int64_t generation;               /* of the catalog holdings read */
    struct fleet_holding *cat, *sent; /* the catalog's holdings; those last answered */
    size_t n_cat, n_sent;
    uint64_t finished_sent; /* phones' finished loads in the latest report answered */
    bool told_no_upstream;
    char poll_why[REPORT_WHY_MAX]; /* the latest poll's failure; "": answering */
};

/* ---- the token ---- */

int fleet_token_read(const char *path, char *out, size_t cap, bool *loose, char *err, size_t errcap)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int rc = fileio_read_file(path, TOKEN_FILE_MAX, &buf, &len);

    *loose = false;
    if (rc != 0) {
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(-rc));
        return -1;
    }
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    rc = -1;
    if (len == 0)
        snprintf(err, errcap,
                 "%s is empty: it must hold this branch's token (loadsctl branch add "
                 "at the central prints it)",
                 path);
    else if (len > REPORT_TOKEN_MAX || len >= cap)
        snprintf(err, errcap, "%s: the token is longer than %d bytes", path, REPORT_TOKEN_MAX);
    else if (strspn(buf, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                         "abcdefghijklmnopqrstuvwxyz{|}~") < len)
        snprintf(err, errcap, "%s: not one line of printable characters without spaces", path);
    else
        rc = 0;
    if (rc == 0) {
        memcpy(out, buf, len);
        out[len] = '\0';
        *loose = stat(path, &st) == 0 && (st.st_mode & 077) != 0;
    }
    free(buf);
    return rc;
}

/* ---- what this branch holds ---- */

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* One catalog load as a holding. */
static void holding_of_load(const struct catalog_load *l, struct fleet_holding *h)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->load, sizeof(h->load), "%s", l->name);
    if (strcmp(l->status, "quarantined") == 0)
        h->state = FLEET_QUARANTINED;
    else if (!l->served)
        h->state = FLEET_BLOCKED;
    else
        h->state = FLEET_COMPLETE;
    h->files_have = h->files_total = l->file_count;
    h->bytes_have = h->bytes_total = l->total_size;
    h->eta_s = FLEET_ETA_UNKNOWN;
}

struct cat_read {
    struct fleet_holding *v;
    size_t n, cap;
};

static int cat_read_one(void *arg, const struct catalog_load *l)
{
    struct cat_read *c = arg;

    if (!pull_load_name_ok(l->name))
        return 0; /* a name the contract cannot carry (imported by hand) */
    if (grow_array((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v), 16) != 0)
        return DB_ERROR;
    holding_of_load(l, &c->v[c->n++]);
    return 0;
}

/* A quarantined load's files that are still sound. */
static int cat_count_sound(void *arg, const struct catalog_file *f)
{
    struct fleet_holding *h = arg;

    if (strcmp(f->status, "quarantined") == 0) {
        h->files_have--;
        h->bytes_have -= f->size <= h->bytes_have ? f->size : h->bytes_have;
    }
    return 0;
}

static int cat_read_all(sqlite3 *db, void *arg)
{
    struct cat_read *c = arg;
    int rc = catalog_loads_each(db, cat_read_one, c);

    for (size_t i = 0; rc == DB_OK && i < c->n; i++)
        if (c->v[i].state == FLEET_QUARANTINED)
            rc = catalog_files_each(db, c->v[i].load, cat_count_sound, &c->v[i]);
    return rc;
}

/* Reads the catalog's holdings again when its generation moved. */
static void cat_refresh(struct fleet_reporter *r)
{
    struct cat_read c = {0};
    int64_t gen = 0;

    if (r->db == NULL || db_generation(r->db, &gen) != DB_OK ||
        (gen == r->generation && r->cat != NULL))
        return;
    if (db_read(r->db, cat_read_all, &c) != DB_OK) {
        free(c.v);
        return;
    }
    free(r->cat);
    r->cat = c.v;
    r->n_cat = c.n;
    r->generation = gen;
}

static const struct fleet_holding *cat_find(const struct fleet_reporter *r, const char *name)
{
    for (size_t i = 0; i < r->n_cat; i++)
        if (strcasecmp(r->cat[i].load, name) == 0)
            return &r->cat[i];
    return NULL;
}

/* A pull entry as a holding: staging while queued or running, incomplete
 * when it stopped with files fetched; false when it holds nothing. */
static bool holding_of_pull(const struct pull_entry *p, struct fleet_holding *h)
{
    bool moving = strcmp(p->state, "queued") == 0 || strcmp(p->state, "running") == 0;

    if (!moving && !(strcmp(p->state, "failed") == 0 && p->files_done > 0))
        return false;
    memset(h, 0, sizeof(*h));
    snprintf(h->load, sizeof(h->load), "%s", p->name);
    h->state = moving ? FLEET_STAGING : FLEET_INCOMPLETE;
    h->files_have = p->files_done;
    h->files_total = p->files_total;
    h->bytes_have = p->bytes_done;
    h->bytes_total = p->bytes_total;
    h->eta_s = moving && p->eta_s >= 0 ? p->eta_s : FLEET_ETA_UNKNOWN;
    return true;
}

/* The catalog's holdings, then the pulls of loads the catalog lacks; sorted.
 * 0, or -1 (out of memory). */
static int holdings_now(struct fleet_reporter *r, struct fleet_holding **out, size_t *n)
{
    struct pull_entry *pv = NULL;
    size_t np = 0, cap = 0;

    cat_refresh(r);
    *n = 0;
    *out = NULL;
    if (r->pull != NULL && pull_engine_list(r->pull, &pv, &np) != 0)
        return -1;
    if (grow_array((void **)out, &cap, r->n_cat + np + 1, sizeof(**out), 16) != 0) {
        free(pv);
        return -1;
    }
    if (r->n_cat > 0)
        memcpy(*out, r->cat, r->n_cat * sizeof(**out));
    *n = r->n_cat;
    for (size_t i = 0; i < np; i++)
        if (cat_find(r, pv[i].name) == NULL && pull_load_name_ok(pv[i].name) &&
            holding_of_pull(&pv[i], &(*out)[*n]))
            (*n)++;
    free(pv);
    report_holdings_sort(*out, *n);
    return 0;
}

/* ---- one call to the central ---- */

/* Where and with what a call goes, read under the lock (a reload may
 * change them). */
struct call {
    char url[UPSTREAM_BASE_MAX + sizeof(REPORT_PATH)];
    char ca[PATH_BUF];
    char token[REPORT_TOKEN_MAX + 1];
    struct upstream_fetch_opts o;
};

static void call_prepare(struct fleet_reporter *r, const char *path, struct call *c)
{
    pthread_mutex_lock(&r->lock);
    snprintf(c->url, sizeof(c->url), "%s%s", r->central, path);
    snprintf(c->ca, sizeof(c->ca), "%s", r->ca_file);
    snprintf(c->token, sizeof(c->token), "%s", r->token);
    pthread_mutex_unlock(&r->lock);
    memset(&c->o, 0, sizeof(c->o));
    c->o.connect_timeout_s = REPORT_CONNECT_S;
    c->o.total_timeout_s = REPORT_TIMEOUT_S;
    c->o.ca_file = c->ca;
    c->o.stop = &r->stop;
}

/* ---- one report ---- */

static uint64_t free_bytes_of(const char *dir)
{
    struct statvfs sv;

    return statvfs(dir, &sv) == 0 ? (uint64_t)sv.f_bavail * sv.f_frsize : 0;
}

/* The central's error body ({"error": code, "detail": text}) for why. */
static void why_from_error(long status, const char *body, size_t len, const char *fallback,
                           char *why, size_t cap)
{
    json_t *j = body != NULL && len > 0 ? json_loadb(body, len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "error"));
    char clean[96];

    if (status == 401 || status == 403) {
        log_clean(code != NULL ? code : "", code != NULL ? strlen(code) : 0, clean, sizeof(clean));
        snprintf(why, cap,
                 "the central refused this branch's token (HTTP %ld %s): check "
                 "--central-token-file against loadsctl branch add at the central",
                 status, clean);
    } else if (status != 0 && code != NULL) {
        log_clean(code, strlen(code), clean, sizeof(clean));
        snprintf(why, cap, "HTTP %ld %s", status, clean);
    } else {
        log_clean(fallback, strlen(fallback), why, cap);
    }
    json_decref(j);
}

/* Sends r's report of v and its phones' fetches (*finished: their finished
 * loads counted when read); 0 with *a filled, or -1 with why. */
static int report_send(struct fleet_reporter *r, const struct fleet_holding *v, size_t n,
                       uint64_t *finished, struct report_answer *a, char *why, size_t cap)
{
    struct report_doc rep = {PACKAGE_VERSION, now_s(), free_bytes_of(r->data_dir), v, n, NULL, 0};
    struct inventory_addr_row *phones = NULL;
    struct call c;
    char err[REPORT_WHY_MAX - 32];
    char *body = NULL, *answer = NULL;
    size_t len = 0, alen = 0;
    long status = 0;
    int rc = -1;

    call_prepare(r, REPORT_PATH, &c);
    if (inventory_addr_snapshot(r->inv, REPORT_PHONES_MAX, &phones, &rep.n_phones, finished) != 0) {
        snprintf(why, cap, "cannot read the phones' fetches (out of memory)");
        goto out;
    }
    rep.phones = phones;
    if (report_json_build(&rep, &body, &len) != 0) {
        snprintf(why, cap, "cannot build the report (out of memory)");
        goto out;
    }
    if (upstream_fetch_post(c.url, c.token, body, len, REPORT_ANSWER_MAX, &c.o, &status, &answer,
                            &alen, err, sizeof(err)) != FETCH_OK) {
        why_from_error(status, answer, alen, err, why, cap);
        goto out;
    }
    if (report_answer_parse(answer, alen, a, err, sizeof(err)) != 0) {
        snprintf(why, cap, "the central's answer: %s", err);
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(c.token, sizeof(c.token));
    free(phones);
    free(body);
    free(answer);
    return rc;
}

/* ---- a poll of the want list between reports ---- */

/* GET /api/v1/fleet/want with If-None-Match: tag. 0 with *changed false
 * (304: the list is as tagged) or true with *a filled; -1 with why. */
static int poll_send(struct fleet_reporter *r, const char *tag, bool *changed,
                     struct report_answer *a, char *why, size_t cap)
{
    struct call c;
    char err[REPORT_WHY_MAX - 32];
    char *answer = NULL;
    size_t alen = 0;
    long status = 0;
    int rc = -1;

    *changed = false;
    call_prepare(r, WANT_PATH, &c);
    if (upstream_fetch_get_tagged(c.url, c.token, tag, REPORT_ANSWER_MAX, &c.o, &status, &answer,
                                  &alen, err, sizeof(err)) != FETCH_OK) {
        why_from_error(status, answer, alen, err, why, cap);
        goto out;
    }
    if (status == 200 && report_answer_parse(answer, alen, a, err, sizeof(err)) != 0) {
        snprintf(why, cap, "the central's want list: %s", err);
        goto out;
    }
    *changed = status == 200;
    rc = 0;
out:
    explicit_bzero(c.token, sizeof(c.token));
    free(answer);
    return rc;
}

/* ---- the central's want list ---- */

/* Whether v (n, sorted) has name in a state a pull cannot improve. */
static bool held_or_moving(const struct fleet_holding *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i].load, name) == 0)
            return v[i].state != FLEET_INCOMPLETE;
    return false;
}

/* Whether the catalog holds name now (a pull may have ended since the
 * holdings were read: its load is not fetched again). */
static bool in_catalog(struct fleet_reporter *r, const char *name)
{
    struct catalog_load l;

    return r->db != NULL && catalog_load_find(r->db, name, &l) == DB_OK;
}

static void stage_wanted(struct fleet_reporter *r, const struct report_answer *a,
                         const struct fleet_holding *v, size_t n)
{
    char err[160], shown[RESOLVER_NAME_MAX + 1];

    for (size_t i = 0; i < a->n_want; i++) {
        if (held_or_moving(v, n, a->want[i]) || in_catalog(r, a->want[i]))
            continue;
        log_clean(a->want[i], strlen(a->want[i]), shown, sizeof(shown));
        if (r->pull == NULL) {
            if (!r->told_no_upstream)
                log_warn("central: it wants loads this branch lacks (%s, ...), but there is no "
                         "--upstream to stage them from",
                         shown);
            r->told_no_upstream = true;
            return;
        }
        if (pull_engine_stage(r->pull, a->want[i], err, sizeof(err)) != 0) {
            log_warn("central wants %s: cannot stage it: %s", shown, err);
            continue;
        }
        log_info("central wants %s: staging it from %s", shown, pull_engine_upstream(r->pull));
        if (r->db != NULL)
            catalog_audit(r->db, "central", "stage", a->want[i], NULL,
                          pull_engine_upstream(r->pull));
    }
}

/* ---- the status, and its log lines ---- */

static void status_ok(struct fleet_reporter *r, const struct report_answer *a, size_t held)
{
    char branch[REPORT_BRANCH_NAME_MAX * 4 + 1], central[UPSTREAM_BASE_MAX];
    bool was_ok;

    pthread_mutex_lock(&r->lock);
    snprintf(central, sizeof(central), "%s", r->central);
    was_ok = r->st.last_ok != 0 && r->st.failing_since == 0;
    r->st.last_ok = r->st.last_sent;
    r->st.failing_since = 0;
    r->st.why[0] = '\0';
    r->st.report_every_s = a->report_every_s;
    r->st.held = held;
    snprintf(r->st.branch, sizeof(r->st.branch), "%s", a->branch);
    pthread_mutex_unlock(&r->lock);
    if (was_ok)
        return;
    log_clean(a->branch, strlen(a->branch), branch, sizeof(branch));
    log_info("central %s: reporting as branch %s (%zu load(s) held, %zu wanted, every %u s)",
             central, branch, held, a->n_want, a->report_every_s);
}

static void status_failed(struct fleet_reporter *r, const char *why, unsigned retry_s)
{
    char central[UPSTREAM_BASE_MAX];
    bool news;

    pthread_mutex_lock(&r->lock);
    snprintf(central, sizeof(central), "%s", r->central);
    news = r->st.failing_since == 0 || strcmp(r->st.why, why) != 0;
    if (r->st.failing_since == 0)
        r->st.failing_since = r->st.last_sent;
    snprintf(r->st.why, sizeof(r->st.why), "%s", why);
    pthread_mutex_unlock(&r->lock);
    if (news)
        log_warn("central %s: report failed: %s (retrying in %u s; serving on)", central, why,
                 retry_s);
}

/* ---- the thread ---- */

struct schedule {
    int64_t due;      /* the next report, Unix seconds */
    unsigned every;   /* report_every_s */
    unsigned backoff; /* after a failure; 0 while answering */
    /* between reports, the want list polled (docs/FLEET.md, "The branch
     * side"); only a central that tags its answers is: */
    char tag[REPORT_WANT_TAG_MAX + 1]; /* the list's want_tag; "": no polling */
    unsigned poll_every;               /* want_poll_s */
    int64_t poll_due;
    unsigned poll_backoff; /* after a failed poll, as backoff */
};

/* The wait after a failure: 5 s, doubling, at most the schedule's. */
static unsigned backoff_next(unsigned backoff, unsigned every)
{
    backoff = backoff == 0 ? REPORT_BACKOFF_FIRST_S : backoff * 2;
    return backoff > every ? every : backoff;
}

/* The answer's tag and poll period: polled from now on, or not at all. */
static void schedule_tag(struct fleet_reporter *r, struct schedule *s,
                         const struct report_answer *a)
{
    snprintf(s->tag, sizeof(s->tag), "%s", a->want_tag);
    s->poll_every = a->want_poll_s;
    s->poll_backoff = 0;
    s->poll_due = now_s() + s->poll_every;
    pthread_mutex_lock(&r->lock);
    r->st.want_poll_s = a->want_tag[0] != '\0' ? a->want_poll_s : 0;
    r->st.wanted = a->n_want;
    pthread_mutex_unlock(&r->lock);
}

/* One report now; the schedule moves on from its outcome. */
static void report_once(struct fleet_reporter *r, struct fleet_holding *v, size_t n,
                        struct schedule *s)
{
    struct report_answer a;
    char why[REPORT_WHY_MAX];
    uint64_t finished = 0;

    pthread_mutex_lock(&r->lock);
    r->st.last_sent = now_s();
    pthread_mutex_unlock(&r->lock);
    if (report_send(r, v, n, &finished, &a, why, sizeof(why)) != 0) {
        if (atomic_load(&r->stop))
            return;
        s->backoff = backoff_next(s->backoff, s->every);
        s->due = now_s() + s->backoff;
        status_failed(r, why, s->backoff);
        return;
    }
    s->every = a.report_every_s;
    s->backoff = 0;
    s->due = now_s() + s->every;
    schedule_tag(r, s, &a);
    free(r->sent);
    r->sent = v;
    r->n_sent = n;
    r->finished_sent = finished;
    status_ok(r, &a, n);
    stage_wanted(r, &a, v, n);
    report_answer_free(&a);
}

/* A poll's failure logged when it is news, and its end. */
static void poll_status(struct fleet_reporter *r, const char *why, unsigned retry_s)
{
    char central[UPSTREAM_BASE_MAX];

    if (strcmp(r->poll_why, why) == 0)
        return;
    pthread_mutex_lock(&r->lock);
    snprintf(central, sizeof(central), "%s", r->central);
    pthread_mutex_unlock(&r->lock);
    if (why[0] != '\0')
        log_warn("central %s: asking for the want list failed: %s (again in %u s; reports go "
                 "on)",
                 central, why, retry_s);
    else
        log_info("central %s: the want list can be asked for again", central);
    snprintf(r->poll_why, sizeof(r->poll_why), "%s", why);
}

/* One poll now: a list that moved is staged at once (v, n: what this branch
 * holds) and reported soon, so the central sees the staging begin. */
static void poll_once(struct fleet_reporter *r, const struct fleet_holding *v, size_t n,
                      struct schedule *s)
{
    struct report_answer a;
    char why[REPORT_WHY_MAX];
    bool changed = false;

    if (poll_send(r, s->tag, &changed, &a, why, sizeof(why)) != 0) {
        if (atomic_load(&r->stop))
            return;
        s->poll_backoff = backoff_next(s->poll_backoff, s->every);
        s->poll_due = now_s() + s->poll_backoff;
        poll_status(r, why, s->poll_backoff);
        return;
    }
    poll_status(r, "", 0);
    s->poll_backoff = 0;
    s->poll_due = now_s() + s->poll_every;
    if (!changed)
        return;
    if (strcmp(a.want_tag, s->tag) != 0) {
        log_info("central: the want list changed (%zu load(s) wanted)", a.n_want);
        if (s->due > now_s() + REPORT_CHANGE_DELAY_S)
            s->due = now_s() + REPORT_CHANGE_DELAY_S;
    }
    schedule_tag(r, s, &a);
    stage_wanted(r, &a, v, n);
    report_answer_free(&a);
}

/* One look: reports when due, or soon after what it holds changed; else
 * polls the want list when that is due. */
static void tick(struct fleet_reporter *r, struct schedule *s)
{
    struct fleet_holding *v = NULL;
    size_t n = 0;
    int64_t now = now_s();

    pthread_mutex_lock(&r->lock);
    if (r->kick) {
        s->due = now;
        s->backoff = 0;
    }
    r->kick = false;
    pthread_mutex_unlock(&r->lock);
    if (holdings_now(r, &v, &n) != 0)
        return;
    if (s->backoff == 0 && s->due > now + REPORT_CHANGE_DELAY_S && r->sent != NULL &&
        (report_holdings_changed(r->sent, r->n_sent, v, n) ||
         inventory_addr_finished(r->inv) != r->finished_sent))
        s->due = now + REPORT_CHANGE_DELAY_S;
    if (now >= s->due) {
        report_once(r, v, n, s); /* keeps v when answered */
        if (r->sent == v)
            return;
    } else if (s->tag[0] != '\0' && s->backoff == 0 && now >= s->poll_due) {
        poll_once(r, v, n, s);
    }
    free(v);
}

static void *reporter_main(void *arg)
{
    struct fleet_reporter *r = arg;
    struct schedule s = {.due = now_s(), .every = REPORT_FIRST_EVERY_S};
    char path[PATH_BUF + 16];

    snprintf(path, sizeof(path), "%s/catalog.db", r->data_dir);
    if (db_open(path, &r->db) != DB_OK) {
        log_error("central: cannot open %s: reporting what the pulls hold only", path);
        r->db = NULL;
    }
    while (!atomic_load(&r->stop)) {
        struct timespec ts;

        tick(r, &s);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += REPORT_TICK_S;
        pthread_mutex_lock(&r->lock);
        if (!atomic_load(&r->stop))
            pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        pthread_mutex_unlock(&r->lock);
    }
    if (r->db != NULL)
        db_close(r->db);
    return NULL;
}

static void settings_set(struct fleet_reporter *r, const struct fleet_reporter_params *p)
{
    snprintf(r->central, sizeof(r->central), "%s", p->central);
    snprintf(r->ca_file, sizeof(r->ca_file), "%s", p->ca_file != NULL ? p->ca_file : "");
    snprintf(r->token, sizeof(r->token), "%s", p->token);
    snprintf(r->st.central, sizeof(r->st.central), "%s", p->central);
}

int fleet_reporter_start(const struct fleet_reporter_params *p, struct fleet_reporter **out)
{
    struct fleet_reporter *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (r == NULL || upstream_fetch_global_init() != 0) {
        log_error("central: cannot start reporting");
        free(r);
        return -1;
    }
    settings_set(r, p);
    snprintf(r->data_dir, sizeof(r->data_dir), "%s", p->data_dir);
    r->pull = p->pull;
    r->inv = p->inv;
    r->generation = -1;
    r->st.report_every_s = REPORT_FIRST_EVERY_S;
    atomic_init(&r->stop, false);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, reporter_main, r) != 0) {
        log_error("central: cannot start the reporter thread");
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void fleet_reporter_update(struct fleet_reporter *r, const struct fleet_reporter_params *p)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    settings_set(r, p);
    r->kick = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void fleet_reporter_stop(struct fleet_reporter *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    explicit_bzero(r->token, sizeof(r->token));
    free(r->cat);
    free(r->sent);
    free(r);
}

void fleet_reporter_get(struct fleet_reporter *r, struct fleet_reporter_status *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->st;
    pthread_mutex_unlock(&r->lock);
}
