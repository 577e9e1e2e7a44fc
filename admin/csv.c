/* csv.c: the RFC 4180 reader (one record at a time, fields unescaped into
 * the caller's record buffer) and field quoting. Never reads past the end
 * of its input, never allocates, never accepts a NUL or control byte. */
#include "admin/csv.h"

#include <stdbool.h>
#include <string.h>

int csv_init(struct csv_reader *r, const char *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    if (len > CSV_INPUT_MAX)
        return CSV_ERR_TOO_LARGE;
    r->p = data;
    r->end = data + len;
    r->line = 1;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        r->p += 3; /* the BOM spreadsheets write */
    return CSV_OK;
}

const char *csv_strerror(int rc)
{
    switch (rc) {
    case CSV_OK:
        return "ok";
    case CSV_END:
        return "end of input";
    case CSV_ERR_QUOTE:
        return "a quoted field never ends";
    case CSV_ERR_STRAY:
        return "a quote inside an unquoted field, or text after a closing quote";
    case CSV_ERR_FIELD:
        return "a field is too long";
    case CSV_ERR_RECORD:
        return "a record is too long";
    case CSV_ERR_COLUMNS:
        return "too many columns";
    case CSV_ERR_ROWS:
        return "too many rows";
    case CSV_ERR_CONTROL:
        return "a control character (NUL, lone carriage return, ...)";
    case CSV_ERR_TOO_LARGE:
        return "the file is too large";
    default:
        return "unknown CSV error";
    }
}

static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Where a record is being built. */
struct builder {
    struct csv_record *rec;
    size_t used;  /* bytes of rec->buf in use */
    size_t field; /* bytes of the current field */
};

static int put(struct builder *b, char c)
{
    if (b->field + 1 > CSV_FIELD_MAX)
        return CSV_ERR_FIELD;
    if (b->used + 1 >= CSV_RECORD_MAX) /* room for the NUL */
        return CSV_ERR_RECORD;
    b->rec->buf[b->used++] = c;
    b->field++;
    return CSV_OK;
}

/* At a line end (LF or CRLF) or the end of input? Sets *len to its bytes. */
static bool at_record_end(const struct csv_reader *r, size_t *len)
{
    *len = 0;
    if (r->p == r->end)
        return true;
    if (*r->p == '\n') {
        *len = 1;
        return true;
    }
    if (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n') {
        *len = 2;
        return true;
    }
    return false;
}

static int field_quoted(struct csv_reader *r, struct builder *b)
{
    unsigned start_line = r->line;
    int rc;

    r->p++; /* the opening quote */
    for (;;) {
        unsigned char c;

        if (r->p == r->end) {
            r->line = start_line;
            return CSV_ERR_QUOTE;
        }
        c = (unsigned char)*r->p;
        if (c == '"') {
            if (r->p + 1 < r->end && r->p[1] == '"') {
                r->p += 2;
                if ((rc = put(b, '"')) != CSV_OK)
                    return rc;
                continue;
            }
            r->p++;
            break;
        }
        if (is_control(c) && c != '\n' && c != '\r')
            return CSV_ERR_CONTROL;
        if (c == '\n')
            r->line++;
        if ((rc = put(b, (char)c)) != CSV_OK)
            return rc;
        r->p++;
    }
    /* After the closing quote: a separator or the record's end. */
    {
        size_t n;

        if (r->p < r->end && *r->p == ',')
            return CSV_OK;
        if (at_record_end(r, &n))
            return CSV_OK;
        return *r->p == '\r' ? CSV_ERR_CONTROL : CSV_ERR_STRAY; /* a lone CR */
    }
}

static int field_plain(struct csv_reader *r, struct builder *b)
{
    size_t n;
    int rc;

    while (r->p < r->end && *r->p != ',' && !at_record_end(r, &n)) {
        unsigned char c = (unsigned char)*r->p;

        if (c == '"')
            return CSV_ERR_STRAY;
        if (is_control(c))
            return CSV_ERR_CONTROL;
        if ((rc = put(b, (char)c)) != CSV_OK)
            return rc;
        r->p++;
    }
    return CSV_OK;
}

static void skip_blank_lines(struct csv_reader *r)
{
    size_t n;

    while (r->p < r->end && at_record_end(r, &n)) {
        r->p += n;
        r->line++;
    }
}

int csv_next(struct csv_reader *r, struct csv_record *rec)
{
    struct builder b = {rec, 0, 0};
    size_t n;
    int rc;

    rec->n_fields = 0;
    skip_blank_lines(r);
    if (r->p == r->end)
        return CSV_END;
    if (r->records >= CSV_ROWS_MAX)
        return CSV_ERR_ROWS;
    rec->line = r->line;
    for (;;) {
        if (rec->n_fields == CSV_COLUMNS_MAX)
            return CSV_ERR_COLUMNS;
        b.field = 0;
        rec->fields[rec->n_fields] = rec->buf + b.used;
        rc = r->p < r->end && *r->p == '"' ? field_quoted(r, &b) : field_plain(r, &b);
        if (rc == CSV_OK && b.used >= CSV_RECORD_MAX)
            rc = CSV_ERR_RECORD; /* no room for this field's NUL */
        if (rc != CSV_OK)
            return rc;
        rec->lens[rec->n_fields++] = b.field;
        rec->buf[b.used++] = '\0';
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        at_record_end(r, &n);
        r->p += n;
        if (n > 0)
            r->line++;
        break;
    }
    r->records++;
    return CSV_OK;
}

/* A cell a spreadsheet would run as a formula (OWASP, "CSV Injection"). */
static bool csv_formula_like(const char *in)
{
    return in[0] != '\0' && strchr("=+-@\t\r", in[0]) != NULL;
}

static size_t csv_format(const char *in, bool safe, char *out, size_t cap)
{
    size_t len = strlen(in), need = 0;
    bool quote =
        safe || strpbrk(in, ",\"\r\n") != NULL || (len > 0 && (in[0] == ' ' || in[len - 1] == ' '));

#define EMIT(ch)                                                                                   \
    do {                                                                                           \
        if (need + 1 < cap)                                                                        \
            out[need] = (ch);                                                                      \
        need++;                                                                                    \
    } while (0)
    if (quote)
        EMIT('"');
    if (safe && csv_formula_like(in))
        EMIT('\'');
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '"')
            EMIT('"');
        EMIT(in[i]);
    }
    if (quote)
        EMIT('"');
#undef EMIT
    if (cap > 0)
        out[need < cap ? need : cap - 1] = '\0';
    return need;
}

size_t csv_format_field(const char *in, char *out, size_t cap)
{
    return csv_format(in, false, out, cap);
}

size_t csv_format_field_safe(const char *in, char *out, size_t cap)
{
    return csv_format(in, true, out, cap);
}
