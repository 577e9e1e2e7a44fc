/* devcsv.c: device CSV import (read every row, check each against one
 * snapshot taken inside the write transaction, then write all or nothing,
 * or in a partial import the good rows and a file of the rejected ones with
 * their reasons), the template, and export. No SQL here (db/provision.c
 * does that), no file I/O. */
#include "admin/devcsv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/csv.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/fleet.h"
#include "db/model/settings.h"
#include "db/provision.h"
#include "lib/log.h"
#include "lib/text.h"

const char DEVCSV_HEADER[] = "mac,model,profile,description,load,peer_firmware_sharing,"
                             "load_server";

enum column {
    COL_MAC,
    COL_MODEL,
    COL_PROFILE,
    COL_DESCRIPTION,
    COL_LOAD,
    COL_PFS,
    COL_LOAD_SERVER,
    COL_COUNT
};

static const char *const column_names[COL_COUNT] = {
    "mac", "model", "profile", "description", "load", "peer_firmware_sharing", "load_server",
};

/* Everything one import works with. */
struct import {
    sqlite3 *db; /* inside the import's write transaction: which branches exist */
    const struct settings_snapshot *snap;
    bool force;
    bool partial;   /* import the good rows; the others go to the rejected file */
    bool fatal;     /* an error of the file as a whole (header, syntax) */
    long cur;       /* the row being read (index into rows), -1: none */
    char **reasons; /* per row: why it is rejected (malloc'd), or NULL */
    size_t *spans;  /* per row: the record's first and last byte + 1, in pairs */
    size_t header_span[2];
    struct provision_device *good; /* partial: the rows without a reason */
    size_t n_good;
    struct devcsv_report *rep;
    int col[COL_COUNT]; /* field index of each column, -1 when absent */
    size_t n_columns;
    struct provision_device *rows;
    unsigned *lines; /* the line of each row */
    size_t n_rows, cap;
    const char *data; /* the file */
    size_t len;
};

static void report_error(struct devcsv_report *rep, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report_error(struct devcsv_report *rep, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (rep->n_errors == DEVCSV_ERRORS_MAX) {
        rep->more_errors++;
        return;
    }
    rep->errors[rep->n_errors].line = line;
    va_start(ap, fmt);
    vsnprintf(rep->errors[rep->n_errors].text, DEVCSV_ERROR_TEXT, fmt, ap);
    va_end(ap);
    rep->n_errors++;
}

/* Appends text to the reason of row i ("; " between two). */
static void reason_add(struct import *im, size_t i, const char *text)
{
    size_t old = im->reasons[i] ? strlen(im->reasons[i]) : 0, add = strlen(text);
    char *r;

    if (old > 4 * DEVCSV_ERROR_TEXT)
        return; /* enough said */
    r = realloc(im->reasons[i], old + add + 3);
    if (r == NULL)
        return;
    if (old > 0)
        memcpy(r + old, "; ", 2), old += 2;
    memcpy(r + old, text, add + 1);
    im->reasons[i] = r;
}

/* An error of row i (or of the file when i < 0): reported, and kept as the
 * row's reason for the rejected file. */
static void row_error_at(struct import *im, long i, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row_error_at(struct import *im, long i, unsigned line, const char *fmt, ...)
{
    char text[DEVCSV_ERROR_TEXT];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    report_error(im->rep, line, "%s", text);
    if (i < 0)
        im->fatal = true;
    else
        reason_add(im, (size_t)i, text);
}

#define row_error(im, line, ...) row_error_at((im), (im)->cur, (line), __VA_ARGS__)

/* A cell as text fit for an error message (no control bytes, bounded). */
static const char *shown(const char *cell, char *buf, size_t cap)
{
    return log_clean(cell, SIZE_MAX, buf, cap);
}

static int header_read(struct import *im, const struct csv_record *rec)
{
    for (int c = 0; c < COL_COUNT; c++)
        im->col[c] = -1;
    im->n_columns = rec->n_fields;
    for (size_t i = 0; i < rec->n_fields; i++) {
        char name[64];
        int c;

        snprintf(name, sizeof(name), "%s", rec->fields[i]);
        for (c = 0; c < COL_COUNT && strcasecmp(name, column_names[c]) != 0; c++)
            ;
        if (c == COL_COUNT && strcasecmp(name, DEVCSV_REASON_COLUMN) == 0)
            continue; /* a rejected-rows file, fixed and imported again */
        if (c == COL_COUNT) {
            row_error(im, rec->line, "unknown column \"%s\" (the columns are %s)",
                      shown(rec->fields[i], name, sizeof(name)), DEVCSV_HEADER);
        } else if (im->col[c] >= 0) {
            row_error(im, rec->line, "column %s appears twice", column_names[c]);
        } else {
            im->col[c] = (int)i;
        }
    }
    if (im->col[COL_MAC] < 0 || im->col[COL_MODEL] < 0)
        row_error(im, rec->line, "the header row needs the columns mac and model");
    return im->rep->n_errors == 0 ? 0 : -1;
}

/* Where the cell of column c starts and ends, spaces and tabs around it
 * removed (description kept as written); an absent column is empty. */
static void cell_span(const struct import *im, const struct csv_record *rec, enum column c,
                      const char **start, const char **end)
{
    const char *s = "", *e = s;

    if (im->col[c] >= 0) {
        s = rec->fields[im->col[c]];
        e = s + rec->lens[im->col[c]];
    }
    if (c != COL_DESCRIPTION) {
        while (e > s && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
    }
    *start = s;
    *end = e;
}

/* The cell of column c (see cell_span) copied into buf; NULL: too long. */
static const char *cell(const struct import *im, const struct csv_record *rec, enum column c,
                        char *buf, size_t cap)
{
    const char *s, *e;

    cell_span(im, rec, c, &s, &e);
    snprintf(buf, cap, "%.*s", (int)(e - s), s);
    return (size_t)(e - s) < cap ? buf : NULL;
}

/* The text rule every entry path shares (text_valid), cell by cell: CR
 * and LF are refused here as the JSON API refuses them, even though a
 * quoted CSV field may hold them. 0, or -1 when a cell broke it. */
static int row_check_text(struct import *im, const struct csv_record *rec)
{
    const char *s, *e;
    int rc = 0;

    for (int c = 0; c < COL_COUNT; c++) {
        cell_span(im, rec, c, &s, &e);
        if (!text_valid(s, (size_t)(e - s))) {
            row_error(im, rec->line,
                      "bad %s: it must be UTF-8 text without control"
                      " characters (CR, LF and tab included)",
                      column_names[c]);
            rc = -1;
        }
    }
    return rc;
}

static void row_check_names(struct import *im, const struct csv_record *rec,
                            struct provision_device *d)
{
    const struct settings_snapshot *s = im->snap;
    char buf[SETTINGS_VALUE_MAX], show[96];
    const char *v = cell(im, rec, COL_MODEL, buf, sizeof(buf));
    int idx = v ? settings_find_model(s->models, s->n_models, v) : -1;

    if (v == NULL || v[0] == '\0')
        row_error(im, rec->line, "no model");
    else if (idx == -2)
        row_error(im, rec->line, "model \"%s\" is ambiguous: give its full name",
                  shown(v, show, sizeof(show)));
    else if (idx < 0)
        row_error(im, rec->line, "unknown model \"%s\" (see loadsctl model list)",
                  shown(v, show, sizeof(show)));
    else
        snprintf(d->model, sizeof(d->model), "%s", s->models[idx].name);
    v = cell(im, rec, COL_PROFILE, buf, sizeof(buf));
    idx = v ? settings_find_profile(s->profiles, s->n_profiles, v) : -1;
    if (v != NULL && v[0] == '\0')
        d->profile[0] = '\0';
    else if (idx < 0)
        row_error(im, rec->line, "unknown profile \"%s\"",
                  shown(v ? v : "(too long)", show, sizeof(show)));
    else
        snprintf(d->profile, sizeof(d->profile), "%s", s->profiles[idx].name);
}

/* A "branch:NAME" load server must name a registered branch. 0 or -1
 * (the row's error recorded). */
static int branch_check(struct import *im, const struct csv_record *rec, const char *value)
{
    char why[SETTINGS_VALUE_MAX + 128];
    int rc = fleet_load_server_check(im->db, value, why, sizeof(why));

    if (rc == DB_OK)
        return 0;
    row_error(im, rec->line, "bad load_server: %s",
              rc == DB_NOT_FOUND ? why : "the database failed");
    return -1;
}

/* An optional setting: empty = inherit, else normalised. */
static void row_check_setting(struct import *im, const struct csv_record *rec, enum column c,
                              enum settings_key key, struct settings_opt *out)
{
    char buf[SETTINGS_VALUE_MAX], show[96];
    const char *v = cell(im, rec, c, buf, sizeof(buf)), *why = NULL;

    out->set = false;
    out->value[0] = '\0';
    if (v != NULL && v[0] == '\0')
        return;
    if (v == NULL || settings_value_normalize(key, v, out->value, &why) != 0) {
        row_error(im, rec->line, "bad %s \"%s\": %s", column_names[c],
                  shown(v ? v : "(too long)", show, sizeof(show)),
                  why ? why : "the value is too long");
        return;
    }
    if (key == SETTINGS_KEY_LOAD_SERVER && branch_check(im, rec, out->value) != 0)
        return;
    out->set = true;
}

static void row_check_load(struct import *im, const struct csv_record *rec,
                           struct provision_device *d)
{
    char show[96];
    enum settings_load_state st;

    row_check_setting(im, rec, COL_LOAD, SETTINGS_KEY_LOAD, &d->load);
    if (!d->load.set || im->force)
        return;
    st = settings_load_state_of(im->snap, d->load.value);
    if (st == SETTINGS_LOAD_MISSING)
        row_error(im, rec->line, "load \"%s\" is not in the catalog (import it first, or --force)",
                  shown(d->load.value, show, sizeof(show)));
    else if (st == SETTINGS_LOAD_QUARANTINED)
        row_error(im, rec->line, "load \"%s\" is quarantined (or --force)",
                  shown(d->load.value, show, sizeof(show)));
    else
        /* The catalog's spelling, so the config file names the file as stored. */
        snprintf(d->load.value, sizeof(d->load.value), "%s",
                 settings_find_load(im->snap, d->load.value)->name);
}

/* realloc of *arr to n elements of size (the caller checked n). */
static int grow_to(void *arr, size_t n, size_t size)
{
    void *p = realloc(*(void **)arr, n * size);

    if (p == NULL)
        return -1;
    *(void **)arr = p;
    return 0;
}

static int row_add(struct import *im, unsigned line, struct provision_device **out)
{
    if (im->n_rows == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 256;
        struct provision_device *rows = realloc(im->rows, cap * sizeof(*rows));
        unsigned *lines;

        if (rows == NULL)
            return -1;
        im->rows = rows;
        lines = realloc(im->lines, cap * sizeof(*lines));
        if (lines == NULL)
            return -1;
        im->lines = lines;
        if (grow_to(&im->reasons, cap, sizeof(*im->reasons)) != 0 ||
            grow_to(&im->spans, 2 * cap, sizeof(*im->spans)) != 0)
            return -1;
        im->cap = cap;
    }
    im->reasons[im->n_rows] = NULL;
    im->cur = (long)im->n_rows;
    im->lines[im->n_rows] = line;
    *out = &im->rows[im->n_rows++];
    memset(*out, 0, sizeof(**out));
    return 0;
}

static int row_read(struct import *im, const struct csv_record *rec)
{
    struct provision_device *d;
    char buf[SETTINGS_VALUE_MAX], show[96];
    const char *v;

    im->rep->rows++;
    if (row_add(im, rec->line, &d) != 0)
        return -1;
    if (rec->n_fields != im->n_columns) {
        row_error(im, rec->line, "%zu fields where the header has %zu", rec->n_fields,
                  im->n_columns);
        return 0;
    }
    if (row_check_text(im, rec) != 0)
        return 0; /* the other checks would only repeat it */
    v = cell(im, rec, COL_MAC, buf, sizeof(buf));
    if (v == NULL || settings_mac_normalize(v, d->mac) != 0)
        row_error(im, rec->line, "bad MAC address \"%s\"",
                  shown(v ? v : "(too long)", show, sizeof(show)));
    row_check_names(im, rec, d);
    v = cell(im, rec, COL_DESCRIPTION, d->description, sizeof(d->description));
    if (v == NULL)
        row_error(im, rec->line, "the description is longer than %d bytes", SETTINGS_VALUE_MAX - 1);
    row_check_load(im, rec, d);
    row_check_setting(im, rec, COL_PFS, SETTINGS_KEY_PFS, &d->pfs);
    row_check_setting(im, rec, COL_LOAD_SERVER, SETTINGS_KEY_LOAD_SERVER, &d->load_server);
    return 0;
}

/* Duplicate MACs: sort row indexes by MAC and compare neighbours. */
static int by_mac(const void *a, const void *b, void *arg)
{
    const struct import *im = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(im->rows[x].mac, im->rows[y].mac);

    return c != 0 ? c : (x > y) - (x < y);
}

static int check_duplicates(struct import *im)
{
    size_t *order = malloc((im->n_rows ? im->n_rows : 1) * sizeof(*order));

    if (order == NULL)
        return -1;
    for (size_t i = 0; i < im->n_rows; i++)
        order[i] = i;
    qsort_r(order, im->n_rows, sizeof(*order), by_mac, im);
    for (size_t i = 1; i < im->n_rows; i++) {
        const struct provision_device *a = &im->rows[order[i - 1]], *b = &im->rows[order[i]];

        if (a->mac[0] != '\0' && strcmp(a->mac, b->mac) == 0)
            row_error_at(im, (long)order[i], im->lines[order[i]], "MAC %s is already on line %u",
                         b->mac, im->lines[order[i - 1]]);
    }
    free(order);
    return 0;
}

/* The bytes of the record that ended at r->p, without the line ends
 * around it (blank lines before it are skipped by the reader). */
static void span_of(const struct import *im, size_t start, const struct csv_reader *r,
                    size_t span[2])
{
    size_t end = (size_t)(r->p - im->data);

    while (start < end && (im->data[start] == '\r' || im->data[start] == '\n'))
        start++;
    while (end > start && (im->data[end - 1] == '\r' || im->data[end - 1] == '\n'))
        end--;
    span[0] = start;
    span[1] = end;
}

static int read_all(struct import *im, const char *data, size_t len)
{
    static _Thread_local struct csv_record rec;
    struct csv_reader r;
    bool header = true;
    int rc = csv_init(&r, data, len);
    size_t start = 0;

    im->cur = -1;
    while (rc == CSV_OK && (start = (size_t)(r.p - data), rc = csv_next(&r, &rec)) == CSV_OK) {
        if (header) {
            header = false;
            span_of(im, start, &r, im->header_span);
            if (header_read(im, &rec) != 0)
                return 0; /* nothing else makes sense without the columns */
            continue;
        }
        if (row_read(im, &rec) != 0)
            return -1;
        span_of(im, start, &r, &im->spans[2 * (size_t)im->cur]);
        im->cur = -1;
    }
    if (rc != CSV_END)
        row_error_at(im, -1, r.line, "%s", csv_strerror(rc));
    else if (header)
        row_error_at(im, -1, 0, "the file is empty (it needs a header row: %s)", DEVCSV_HEADER);
    else if (im->n_rows == 0 && im->rep->n_errors == 0)
        row_error_at(im, -1, 0, "the file has a header but no devices");
    return check_duplicates(im);
}

/* A partial import: the rows without a reason are the ones written. */
static int keep_good(struct import *im, const struct provision_device **rows, size_t *n)
{
    im->good = malloc((im->n_rows ? im->n_rows : 1) * sizeof(*im->good));
    if (im->good == NULL)
        return DEVCSV_DB;
    for (size_t i = 0; i < im->n_rows; i++)
        if (im->reasons[i] == NULL)
            im->good[im->n_good++] = im->rows[i];
    im->rep->rejected = (unsigned)(im->n_rows - im->n_good);
    *rows = im->good;
    *n = im->n_good;
    return DEVCSV_OK;
}

/* provision_devices_import's check, inside its transaction: the rows of
 * the file, read and checked against snap. */
static int import_check(void *arg, const struct settings_snapshot *snap,
                        const struct provision_device **rows, size_t *n)
{
    struct import *im = arg;
    int rc;

    im->snap = snap;
    rc = read_all(im, im->data, im->len) == 0 ? DEVCSV_OK : DEVCSV_DB;
    im->snap = NULL;
    if (rc == DEVCSV_OK && im->partial && !im->fatal)
        return keep_good(im, rows, n);
    if (rc == DEVCSV_OK && (im->rep->n_errors > 0 || im->rep->more_errors > 0))
        rc = DEVCSV_INVALID;
    *rows = im->rows;
    *n = im->n_rows;
    return rc;
}

/* A refused import leaves one audit row: how many rows and errors, and the
 * first error. */
static void import_audit_refusal(sqlite3 *db, const char *actor, const char *action,
                                 const struct devcsv_report *rep)
{
    char object[64], why[DEVCSV_ERROR_TEXT + 96];

    snprintf(object, sizeof(object), "%u rows", rep->rows);
    snprintf(why, sizeof(why), "%zu error(s); line %u: %s", rep->n_errors + rep->more_errors,
             rep->n_errors > 0 ? rep->errors[0].line : 0,
             rep->n_errors > 0 ? rep->errors[0].text : "");
    if (catalog_audit(db, actor, action, object, NULL, why) != DB_OK)
        log_warn("cannot audit a refused CSV import");
}

/* Appends len bytes to the growing text *t (*len_t used, *cap). */
static int text_add(char **t, size_t *used, size_t *cap, const char *s, size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;

        while (c < *used + len + 1)
            c *= 2;
        if (grow_to(t, c, 1) != 0)
            return -1;
        *cap = c;
    }
    memcpy(*t + *used, s, len);
    *used += len;
    (*t)[*used] = '\0';
    return 0;
}

/* One line of the rejected file: the record as it was, then its reason. */
static int rejected_line(char **t, size_t *used, size_t *cap, const char *raw, size_t len,
                         const char *reason)
{
    size_t need = csv_format_field(reason, NULL, 0) + 1;
    char *field = malloc(need);
    int rc = field != NULL ? 0 : -1;

    if (rc == 0) {
        csv_format_field(reason, field, need);
        rc = text_add(t, used, cap, raw, len) | text_add(t, used, cap, ",", 1) |
             text_add(t, used, cap, field, strlen(field)) | text_add(t, used, cap, "\r\n", 2);
    }
    free(field);
    return rc;
}

/* The header as written (a BOM dropped) with the reason column, then each
 * rejected record as written with its reason. NULL when none or no memory. */
static char *rejected_file(const struct import *im)
{
    size_t used = 0, cap = 0, hs = im->header_span[0], he = im->header_span[1];
    char *t = NULL;
    int rc = 0;

    if (he - hs >= 3 && memcmp(im->data + hs, "\xEF\xBB\xBF", 3) == 0)
        hs += 3;
    for (size_t i = 0; rc == 0 && i < im->n_rows; i++) {
        const size_t *sp = &im->spans[2 * i];

        if (im->reasons[i] == NULL)
            continue;
        if (t == NULL)
            rc = rejected_line(&t, &used, &cap, im->data + hs, he - hs, DEVCSV_REASON_COLUMN);
        if (rc == 0)
            rc = rejected_line(&t, &used, &cap, im->data + sp[0], sp[1] - sp[0], im->reasons[i]);
    }
    if (rc != 0) {
        free(t);
        return NULL;
    }
    return t;
}

static void import_free(struct import *im)
{
    for (size_t i = 0; i < im->n_rows; i++)
        free(im->reasons[i]);
    free(im->reasons);
    free(im->spans);
    free(im->rows);
    free(im->lines);
    free(im->good);
}

int devcsv_import_opts(sqlite3 *db, const char *actor, const char *data, size_t len,
                       const struct devcsv_options *o, struct devcsv_report *rep, char **rejected)
{
    struct import im = {
        .db = db, .force = o->force, .partial = o->partial, .rep = rep, .data = data, .len = len};
    size_t written;
    int rc;

    memset(rep, 0, sizeof(*rep));
    if (rejected != NULL)
        *rejected = NULL;
    rc = provision_devices_import(db, actor, import_check, &im, &rep->added, &rep->updated);
    written = im.partial && rc == DEVCSV_OK ? im.n_good : im.n_rows;
    if (rc == DEVCSV_OK)
        rep->unchanged = (unsigned)written - rep->added - rep->updated;
    else if (rc != DEVCSV_INVALID)
        rc = DEVCSV_DB;
    if (rc != DEVCSV_OK)
        rep->added = rep->updated = rep->unchanged = rep->rejected = 0;
    if (rc == DEVCSV_INVALID)
        import_audit_refusal(db, actor, "device.import_fail", rep);
    else if (rc == DEVCSV_OK && rep->rejected > 0)
        import_audit_refusal(db, actor, "device.import_rejected", rep);
    if (rc == DEVCSV_OK && rep->rejected > 0 && rejected != NULL &&
        (*rejected = rejected_file(&im)) == NULL)
        log_warn("cannot build the rejected rows of a CSV import");
    import_free(&im);
    return rc;
}

int devcsv_import(sqlite3 *db, const char *actor, const char *data, size_t len, bool force,
                  struct devcsv_report *rep)
{
    struct devcsv_options o = {.force = force, .partial = false};

    return devcsv_import_opts(db, actor, data, len, &o, rep, NULL);
}

int devcsv_template(int (*out)(void *arg, const char *text, size_t len), void *arg)
{
    static const char example[] =
        "SEP001122334455,Cisco 7961,,Reception (an empty cell inherits),,,\r\n";
    int rc = out(arg, DEVCSV_HEADER, strlen(DEVCSV_HEADER));

    if (rc == 0)
        rc = out(arg, "\r\n", 2);
    return rc == 0 ? out(arg, example, strlen(example)) : rc;
}

/* ---- export ---- */

struct exporter {
    int (*out)(void *arg, const char *text, size_t len);
    void *arg;
    bool safe;
    char line[8 * (2 * SETTINGS_VALUE_MAX + 3)];
};

static size_t put_field(char *line, size_t at, size_t cap, const char *value, bool safe, bool last)
{
    size_t n = safe ? csv_format_field_safe(value, line + at, cap - at)
                    : csv_format_field(value, line + at, cap - at);

    at += n < cap - at ? n : cap - at - 1;
    if (at + 2 < cap) {
        memcpy(line + at, last ? "\r\n" : ",", last ? 2 : 1);
        at += last ? 2 : 1;
    }
    return at;
}

static int export_row(void *arg, const struct provision_device *d)
{
    struct exporter *x = arg;
    const char *ls = !d->load_server.set       ? ""
                     : d->load_server.value[0] ? d->load_server.value
                                               : "none";
    const char *values[COL_COUNT] = {d->mac,
                                     d->model,
                                     d->profile,
                                     d->description,
                                     d->load.set ? d->load.value : "",
                                     d->pfs.set ? d->pfs.value : "",
                                     ls};
    size_t at = 0;

    for (int c = 0; c < COL_COUNT; c++)
        at = put_field(x->line, at, sizeof(x->line), values[c], x->safe, c + 1 == COL_COUNT);
    return x->out(x->arg, x->line, at);
}

/* db_read's callback: every device through the exporter. */
static int export_rows(sqlite3 *db, void *arg)
{
    return provision_devices_each(db, NULL, 0, 0, export_row, arg);
}

int devcsv_export(sqlite3 *db, bool safe, int (*out)(void *arg, const char *text, size_t len),
                  void *arg)
{
    struct exporter *x = calloc(1, sizeof(*x));
    int rc = x ? DB_OK : DB_ERROR;

    if (rc == DB_OK) {
        x->out = out;
        x->arg = arg;
        x->safe = safe;
        rc = out(arg, DEVCSV_HEADER, strlen(DEVCSV_HEADER));
        if (rc == 0)
            rc = out(arg, "\r\n", 2);
    }
    /* One read transaction: the file is one consistent state. */
    if (rc == DB_OK)
        rc = db_read(db, export_rows, x);
    free(x);
    return rc;
}
