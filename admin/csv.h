/* csv.h: an RFC 4180 CSV reader over a buffer (quoted fields, "" escapes,
 * CRLF or LF, a leading UTF-8 BOM skipped, blank lines skipped) with hard
 * limits, and the quoting a writer needs. Pure: no I/O, no allocation. */
#ifndef LOADSD_CSV_H
#define LOADSD_CSV_H

#include <stddef.h>

#define CSV_FIELD_MAX   4096  /* bytes of one field, unescaped */
#define CSV_RECORD_MAX  65536 /* bytes of one record, unescaped, NULs included */
#define CSV_COLUMNS_MAX 64
#define CSV_ROWS_MAX    100000   /* records, the header included */
#define CSV_INPUT_MAX   67108864 /* bytes of a whole file */

enum csv_result {
    CSV_OK = 0,
    CSV_END = 1,            /* no more records (csv_next) */
    CSV_ERR_QUOTE = -1,     /* a quoted field never ends */
    CSV_ERR_STRAY = -2,     /* a quote inside an unquoted field, or text after a closing quote */
    CSV_ERR_FIELD = -3,     /* a field longer than CSV_FIELD_MAX */
    CSV_ERR_RECORD = -4,    /* a record longer than CSV_RECORD_MAX */
    CSV_ERR_COLUMNS = -5,   /* more than CSV_COLUMNS_MAX fields */
    CSV_ERR_ROWS = -6,      /* more than CSV_ROWS_MAX records */
    CSV_ERR_CONTROL = -7,   /* a NUL or other control byte, or a lone CR */
    CSV_ERR_TOO_LARGE = -8, /* the input exceeds CSV_INPUT_MAX */
};

struct csv_reader {
    const char *p, *end;
    unsigned line; /* physical line of the next byte (1-based) */
    size_t records;
};

/* One record: fields point into buf, NUL-terminated, unescaped. */
struct csv_record {
    unsigned line; /* where the record starts */
    size_t n_fields;
    const char *fields[CSV_COLUMNS_MAX];
    size_t lens[CSV_COLUMNS_MAX];
    char buf[CSV_RECORD_MAX];
};

/* CSV_OK, or CSV_ERR_TOO_LARGE. */
int csv_init(struct csv_reader *r, const char *data, size_t len);
/* The next record into rec: CSV_OK, CSV_END, or a negative csv_result with
 * r->line at the offending line. */
int csv_next(struct csv_reader *r, struct csv_record *rec);
/* "a quoted field never ends", ... */
const char *csv_strerror(int rc);

/* Writes in as one CSV field into out (quoted when it holds a comma, quote,
 * CR, LF, or starts or ends with a space). Returns the length it needs (like
 * snprintf); out holds a NUL-terminated prefix when cap is too small. */
size_t csv_format_field(const char *in, char *out, size_t cap);
/* The same for a file meant for a spreadsheet (OWASP "CSV Injection"):
 * always quoted, and a field starting with = + - @ tab or CR gets a leading
 * ' so that it is shown as text, never run as a formula. Not for files
 * that are read back: the ' stays in the value. */
size_t csv_format_field_safe(const char *in, char *out, size_t cap);

#endif
