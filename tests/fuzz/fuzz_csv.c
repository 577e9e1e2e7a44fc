/* fuzz_csv.c: libFuzzer target for the CSV reader. Checks the limits hold,
 * fields are NUL-terminated with their lengths, and that every field
 * formatted by csv_format_field reads back unchanged. Must not touch files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One field through csv_format_field and back through the reader. */
static void fuzz_csv_round_trip(const char *field, size_t len)
{
    static char line[2 * CSV_FIELD_MAX + 8];
    static struct csv_record rec;
    struct csv_reader r;
    size_t n = csv_format_field(field, line, sizeof(line) - 2);

    if (n > 2 * len + 2 || n >= sizeof(line) - 2)
        abort();
    memcpy(line + n, "\n", 2);
    if (csv_init(&r, line, n + 1) != CSV_OK)
        abort();
    /* A field that is only a BOM would be skipped: the reader's rule. */
    if (len >= 3 && memcmp(field, "\xef\xbb\xbf", 3) == 0)
        return;
    if (len == 0)
        return; /* an empty line is skipped, as a blank line */
    if (csv_next(&r, &rec) != CSV_OK || rec.n_fields != 1 || rec.lens[0] != len ||
        memcmp(rec.fields[0], field, len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct csv_record rec;
    struct csv_reader r;
    unsigned last_line = 0;
    int rc;

    if (csv_init(&r, (const char *)data, size) != CSV_OK)
        return 0;
    while ((rc = csv_next(&r, &rec)) == CSV_OK) {
        size_t total = 0;

        if (rec.n_fields == 0 || rec.n_fields > CSV_COLUMNS_MAX || rec.line <= last_line ||
            r.records > CSV_ROWS_MAX)
            abort();
        last_line = rec.line;
        for (size_t i = 0; i < rec.n_fields; i++) {
            if (rec.lens[i] > CSV_FIELD_MAX || strlen(rec.fields[i]) != rec.lens[i])
                abort();
            total += rec.lens[i] + 1;
            fuzz_csv_round_trip(rec.fields[i], rec.lens[i]);
        }
        if (total > CSV_RECORD_MAX)
            abort();
    }
    if (rc != CSV_END && (rc > CSV_OK || rc < CSV_ERR_TOO_LARGE || r.line < last_line))
        abort();
    return 0;
}
