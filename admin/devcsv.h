/* devcsv.h: bulk device import and export as CSV (columns mac, model,
 * profile, description, load, peer_firmware_sharing, load_server; an empty
 * cell means inherit), and the template. An import checks every row first
 * and then writes all of them in one transaction, or nothing; a partial
 * import writes the good rows and returns the others, with a reason each,
 * as a CSV file of their own. */
#ifndef LOADSD_DEVCSV_H
#define LOADSD_DEVCSV_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define DEVCSV_ERRORS_MAX 50 /* errors kept; the rest are only counted */
#define DEVCSV_ERROR_TEXT 320

enum devcsv_result {
    DEVCSV_OK = 0,
    DEVCSV_INVALID = -10, /* some row is wrong: see the report; nothing was written */
    DEVCSV_DB = -11,      /* the database failed; nothing was written */
};

struct devcsv_error {
    unsigned line; /* 0: the file as a whole */
    char text[DEVCSV_ERROR_TEXT];
};

struct devcsv_report {
    unsigned rows;      /* data rows read */
    unsigned added;     /* new devices */
    unsigned updated;   /* existing devices that changed */
    unsigned unchanged; /* rows equal to what was stored */
    unsigned rejected;  /* a partial import: rows not written (see the rejected file) */
    size_t n_errors;
    unsigned more_errors; /* errors beyond DEVCSV_ERRORS_MAX */
    struct devcsv_error errors[DEVCSV_ERRORS_MAX];
};

/* The header row export writes (and import accepts in any column order;
 * mac and model are required). */
extern const char DEVCSV_HEADER[];
/* The column a rejected-rows file adds; an import ignores it, so the file
 * can be fixed and imported again as it is. */
#define DEVCSV_REASON_COLUMN "reason"

struct devcsv_options {
    bool force;   /* accept loads the catalog lacks or has quarantined */
    bool partial; /* write the good rows; the others go to *rejected */
};

/* Imports data (a whole CSV file). force: accept loads the catalog lacks or
 * has quarantined. Each change is audited as actor. */
int devcsv_import(sqlite3 *db, const char *actor, const char *data, size_t len, bool force,
                  struct devcsv_report *rep);

/* An import with options. partial: rows with errors are left out (the
 * report counts them as rejected, its errors say why) and *rejected gets a
 * malloc'd CSV file of them: the header as written plus a reason column,
 * each rejected record as written plus its reasons; NULL when none. An
 * error of the file as a whole (header, CSV syntax) still writes nothing.
 * rejected may be NULL. */
int devcsv_import_opts(sqlite3 *db, const char *actor, const char *data, size_t len,
                       const struct devcsv_options *o, struct devcsv_report *rep, char **rejected);

/* The template: the header and one example row, through out. 0 or out's. */
int devcsv_template(int (*out)(void *arg, const char *text, size_t len), void *arg);

/* Writes every device as CSV (CRLF line ends, the header first) through
 * out; stops at the first nonzero return of out. 0 or a negative code.
 * Plain (safe false): devcsv_import() reads it back to exactly the same
 * devices. safe: for spreadsheets (csv_format_field_safe): cells that
 * would run as formulas are defused, so it is not an exact round trip. */
int devcsv_export(sqlite3 *db, bool safe, int (*out)(void *arg, const char *text, size_t len),
                  void *arg);

#endif
