/* devcsv.c: device CSV import (read every row, check each against one
 * snapshot taken inside the write transaction, then write all or nothing)
 * and export. No SQL here (db/provision.c does that), no file I/O. */
#include "admin/devcsv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/csv.h"
#include "db/catalog.h"
#include "db/db.h"
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
    const struct settings_snapshot *snap;
    bool force;
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
        if (c == COL_COUNT) {
            report_error(im->rep, rec->line, "unknown column \"%s\" (the columns are %s)",
                         shown(rec->fields[i], name, sizeof(name)), DEVCSV_HEADER);
        } else if (im->col[c] >= 0) {
            report_error(im->rep, rec->line, "column %s appears twice", column_names[c]);
        } else {
            im->col[c] = (int)i;
        }
    }
    if (im->col[COL_MAC] < 0 || im->col[COL_MODEL] < 0)
        report_error(im->rep, rec->line, "the header row needs the columns mac and model");
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
            report_error(im->rep, rec->line,
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
        report_error(im->rep, rec->line, "no model");
    else if (idx == -2)
        report_error(im->rep, rec->line, "model \"%s\" is ambiguous: give its full name",
                     shown(v, show, sizeof(show)));
    else if (idx < 0)
        report_error(im->rep, rec->line, "unknown model \"%s\" (see loadsctl model list)",
                     shown(v, show, sizeof(show)));
    else
        snprintf(d->model, sizeof(d->model), "%s", s->models[idx].name);
    v = cell(im, rec, COL_PROFILE, buf, sizeof(buf));
    idx = v ? settings_find_profile(s->profiles, s->n_profiles, v) : -1;
    if (v != NULL && v[0] == '\0')
        d->profile[0] = '\0';
    else if (idx < 0)
        report_error(im->rep, rec->line, "unknown profile \"%s\"",
                     shown(v ? v : "(too long)", show, sizeof(show)));
    else
        snprintf(d->profile, sizeof(d->profile), "%s", s->profiles[idx].name);
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
        report_error(im->rep, rec->line, "bad %s \"%s\": %s", column_names[c],
                     shown(v ? v : "(too long)", show, sizeof(show)),
                     why ? why : "the value is too long");
        return;
    }
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
        report_error(im->rep, rec->line,
                     "load \"%s\" is not in the catalog (import it first, or --force)",
                     shown(d->load.value, show, sizeof(show)));
    else if (st == SETTINGS_LOAD_QUARANTINED)
        report_error(im->rep, rec->line, "load \"%s\" is quarantined (or --force)",
                     shown(d->load.value, show, sizeof(show)));
    else
        /* The catalog's spelling, so the config file names the file as stored. */
        snprintf(d->load.value, sizeof(d->load.value), "%s",
                 settings_find_load(im->snap, d->load.value)->name);
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
        im->cap = cap;
    }
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
    if (rec->n_fields != im->n_columns) {
        report_error(im->rep, rec->line, "%zu fields where the header has %zu", rec->n_fields,
                     im->n_columns);
        return 0;
    }
    if (row_check_text(im, rec) != 0)
        return 0; /* the other checks would only repeat it */
    if (row_add(im, rec->line, &d) != 0)
        return -1;
    v = cell(im, rec, COL_MAC, buf, sizeof(buf));
    if (v == NULL || settings_mac_normalize(v, d->mac) != 0)
        report_error(im->rep, rec->line, "bad MAC address \"%s\"",
                     shown(v ? v : "(too long)", show, sizeof(show)));
    row_check_names(im, rec, d);
    v = cell(im, rec, COL_DESCRIPTION, d->description, sizeof(d->description));
    if (v == NULL)
        report_error(im->rep, rec->line, "the description is longer than %d bytes",
                     SETTINGS_VALUE_MAX - 1);
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
            report_error(im->rep, im->lines[order[i]], "MAC %s is already on line %u", b->mac,
                         im->lines[order[i - 1]]);
    }
    free(order);
    return 0;
}

static int read_all(struct import *im, const char *data, size_t len)
{
    static _Thread_local struct csv_record rec;
    struct csv_reader r;
    bool header = true;
    int rc = csv_init(&r, data, len);

    while (rc == CSV_OK && (rc = csv_next(&r, &rec)) == CSV_OK) {
        if (header) {
            header = false;
            if (header_read(im, &rec) != 0)
                return 0; /* nothing else makes sense without the columns */
            continue;
        }
        if (row_read(im, &rec) != 0)
            return -1;
    }
    if (rc != CSV_END)
        report_error(im->rep, r.line, "%s", csv_strerror(rc));
    else if (header)
        report_error(im->rep, 0, "the file is empty (it needs a header row: %s)", DEVCSV_HEADER);
    else if (im->n_rows == 0 && im->rep->n_errors == 0)
        report_error(im->rep, 0, "the file has a header but no devices");
    return check_duplicates(im);
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
    if (rc == DEVCSV_OK && (im->rep->n_errors > 0 || im->rep->more_errors > 0))
        rc = DEVCSV_INVALID;
    *rows = im->rows;
    *n = im->n_rows;
    return rc;
}

/* A refused import leaves one audit row: how many rows and errors, and the
 * first error. */
static void import_audit_refusal(sqlite3 *db, const char *actor, const struct devcsv_report *rep)
{
    char object[64], why[DEVCSV_ERROR_TEXT + 96];

    snprintf(object, sizeof(object), "%u rows", rep->rows);
    snprintf(why, sizeof(why), "%zu error(s); line %u: %s", rep->n_errors + rep->more_errors,
             rep->n_errors > 0 ? rep->errors[0].line : 0,
             rep->n_errors > 0 ? rep->errors[0].text : "");
    if (catalog_audit(db, actor, "device.import_fail", object, NULL, why) != DB_OK)
        log_warn("cannot audit a refused CSV import");
}

int devcsv_import(sqlite3 *db, const char *actor, const char *data, size_t len, bool force,
                  struct devcsv_report *rep)
{
    struct import im = {.force = force, .rep = rep, .data = data, .len = len};
    int rc;

    memset(rep, 0, sizeof(*rep));
    rc = provision_devices_import(db, actor, import_check, &im, &rep->added, &rep->updated);
    if (rc == DEVCSV_OK)
        rep->unchanged = (unsigned)im.n_rows - rep->added - rep->updated;
    else if (rc != DEVCSV_INVALID)
        rc = DEVCSV_DB;
    if (rc != DEVCSV_OK)
        rep->added = rep->updated = rep->unchanged = 0;
    if (rc == DEVCSV_INVALID)
        import_audit_refusal(db, actor, rep);
    free(im.rows);
    free(im.lines);
    return rc;
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
