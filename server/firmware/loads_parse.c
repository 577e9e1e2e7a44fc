/* loads_parse.c: parser of the text list inside a .loads file (sgn-format.md,
 * "The .loads payload"): names, size and hash columns, comments, directives.
 * A pure function of the bytes: no files, no allocation, never reads past len. */
#include "server/firmware/loads_parse.h"

#include <string.h>

#include "lib/numparse.h"
#include "lib/text.h"

#define LOADS_SIZE_MAX   ((uint64_t)1 << 40) /* no component is a terabyte */
#define LOADS_SIZE_CHARS 20                  /* digits of UINT64_MAX */
#define LOADS_HASH_CHARS 32
#define LOADS_COLUMNS    3 /* NAME SIZE HASH */

/* A token: a run of bytes without space or tab. */
struct loads_token {
    const uint8_t *p;
    size_t len;
};

/* One line split into tokens; more than LOADS_COLUMNS is an error. */
struct loads_columns {
    struct loads_token tok[LOADS_COLUMNS];
    size_t count;
    bool too_many;
};

/* Parsing state: the list being filled, where an error was, and why. */
struct loads_state {
    struct loads_list *list;
    unsigned line;
    const char *why;
};

static int loads_fail(struct loads_state *s, int rc, const char *why)
{
    s->why = why;
    return rc;
}

static bool loads_is_blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t';
}

static uint8_t loads_fold(uint8_t ch)
{
    return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch - 'A' + 'a') : ch;
}

/* ASCII case-insensitive equality, as the TFTP namespace compares names. */
static bool loads_name_equal(const char *a, const char *b)
{
    size_t i = 0;

    for (; a[i] != '\0' && b[i] != '\0'; i++)
        if (loads_fold((uint8_t)a[i]) != loads_fold((uint8_t)b[i]))
            return false;
    return a[i] == b[i];
}

static void loads_split(const uint8_t *p, size_t len, struct loads_columns *cols)
{
    size_t i = 0;

    memset(cols, 0, sizeof(*cols));
    while (i < len) {
        size_t start;

        while (i < len && loads_is_blank(p[i]))
            i++;
        if (i == len)
            break;
        if (cols->count == LOADS_COLUMNS) {
            cols->too_many = true;
            return;
        }
        start = i;
        while (i < len && !loads_is_blank(p[i]))
            i++;
        cols->tok[cols->count].p = p + start;
        cols->tok[cols->count].len = i - start;
        cols->count++;
    }
}

static int loads_check_name(struct loads_state *s, const struct loads_token *t)
{
    if (t->len > LOADS_NAME_MAX)
        return loads_fail(s, LOADS_BAD_NAME, "file name too long");
    if ((t->len == 1 && t->p[0] == '.') || (t->len == 2 && t->p[0] == '.' && t->p[1] == '.'))
        return loads_fail(s, LOADS_BAD_NAME, "file name is \".\" or \"..\"");
    for (size_t i = 0; i < t->len; i++)
        if (t->p[i] == '/' || t->p[i] == '\\')
            return loads_fail(s, LOADS_BAD_NAME, "file name contains a path separator");
    if (!text_valid((const char *)t->p, t->len))
        return loads_fail(s, LOADS_BAD_NAME,
                          "file name is not UTF-8 text, or contains a control character");
    return LOADS_OK;
}

static int loads_parse_size(struct loads_state *s, const struct loads_token *t, uint64_t *size)
{
    char digits[LOADS_SIZE_CHARS + 1];
    int rc;

    if (t->len > LOADS_SIZE_CHARS)
        return loads_fail(s, LOADS_BAD_LINE, "size column is not a number");
    memcpy(digits, t->p, t->len);
    digits[t->len] = '\0';
    rc = numparse_u64(digits, 0, LOADS_SIZE_MAX, size);
    if (rc == -2)
        return loads_fail(s, LOADS_BAD_LINE, "size column out of range");
    if (rc != 0)
        return loads_fail(s, LOADS_BAD_LINE, "size column is not a number");
    return LOADS_OK;
}

/* The third column is a 32-hex string that says nothing reliable about the
 * file (it is not its MD5): its form is checked, its value ignored. */
static int loads_check_hash(struct loads_state *s, const struct loads_token *t)
{
    if (t->len != LOADS_HASH_CHARS)
        return loads_fail(s, LOADS_BAD_LINE, "hash column is not 32 hex digits");
    for (size_t i = 0; i < t->len; i++) {
        uint8_t ch = loads_fold(t->p[i]);

        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return loads_fail(s, LOADS_BAD_LINE, "hash column is not 32 hex digits");
    }
    return LOADS_OK;
}

static int loads_add_entry(struct loads_state *s, const struct loads_token *name,
                           struct loads_entry *e)
{
    struct loads_list *list = s->list;

    memcpy(e->name, name->p, name->len);
    e->name[name->len] = '\0';
    for (size_t i = 0; i < list->count; i++)
        if (loads_name_equal(list->entries[i].name, e->name))
            return loads_fail(s, LOADS_DUPLICATE, "file listed twice");
    if (list->count == LOADS_ENTRIES_MAX)
        return loads_fail(s, LOADS_TOO_MANY, "too many files listed");
    e->line = s->line;
    list->entries[list->count++] = *e;
    return LOADS_OK;
}

/* NAME [SIZE [HASH]]; for a "#+" line the size is required. */
static int loads_parse_entry(struct loads_state *s, const struct loads_columns *cols, bool extra)
{
    struct loads_entry e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.extra = extra;
    if (cols->too_many)
        return loads_fail(s, LOADS_BAD_LINE, "too many columns");
    if (cols->count == 0 || (extra && cols->count < 2))
        return loads_fail(s, LOADS_BAD_LINE, "extra entry without name and size");
    rc = loads_check_name(s, &cols->tok[0]);
    if (rc == LOADS_OK && cols->count >= 2) {
        rc = loads_parse_size(s, &cols->tok[1], &e.size);
        e.has_size = true;
    }
    if (rc == LOADS_OK && cols->count >= 3)
        rc = loads_check_hash(s, &cols->tok[2]);
    if (rc == LOADS_OK)
        rc = loads_add_entry(s, &cols->tok[0], &e);
    return rc;
}

/* A trimmed, non-empty line without NUL bytes. */
static int loads_parse_line(struct loads_state *s, const uint8_t *p, size_t len)
{
    struct loads_columns cols;

    if (p[0] == '#') {
        if (len >= 2 && p[1] == '?')
            s->list->directives++;
        if (len < 2 || p[1] != '+')
            return LOADS_OK; /* a comment or a directive */
        loads_split(p + 2, len - 2, &cols);
        return loads_parse_entry(s, &cols, true);
    }
    loads_split(p, len, &cols);
    if (memchr(cols.tok[0].p, '=', cols.tok[0].len) != NULL) {
        s->list->settings++; /* KEY=VALUE, e.g. LA_VERSION=PAS30831 */
        return LOADS_OK;
    }
    return loads_parse_entry(s, &cols, false);
}

/* Takes the raw line (without its LF), checks it, trims it, parses it. */
static int loads_take_line(struct loads_state *s, const uint8_t *p, size_t len)
{
    size_t start = 0;

    if (len > 0 && p[len - 1] == '\r')
        len--; /* CRLF: the CR is not part of the line */
    if (len > LOADS_LINE_MAX)
        return loads_fail(s, LOADS_BAD_LINE, "line too long");
    if (memchr(p, '\0', len) != NULL)
        return loads_fail(s, LOADS_BAD_LINE, "line contains a NUL byte");
    /* trailing spaces are common in real lists; a stray CR goes with them */
    while (len > 0 && (loads_is_blank(p[len - 1]) || p[len - 1] == '\r'))
        len--;
    while (start < len && loads_is_blank(p[start]))
        start++;
    if (start == len)
        return LOADS_OK;
    return loads_parse_line(s, p + start, len - start);
}

int loads_parse(const uint8_t *payload, size_t len, struct loads_list *out, unsigned *line,
                const char **why)
{
    struct loads_state s = {.list = out, .line = 0, .why = "empty list"};
    size_t pos = 0;
    int rc = LOADS_TOO_BIG;

    out->count = 0;
    out->directives = 0;
    out->settings = 0;
    if (len > LOADS_PAYLOAD_MAX) {
        s.why = "list too big";
        goto out;
    }
    rc = LOADS_OK;
    /* every pass consumes at least one byte (the line or its LF) */
    while (rc == LOADS_OK && pos < len) {
        const uint8_t *nl = memchr(payload + pos, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - (payload + pos)) : len - pos;

        s.line++;
        rc = loads_take_line(&s, payload + pos, line_len);
        pos += line_len + (nl != NULL ? 1 : 0);
    }
    if (rc == LOADS_OK && out->count == 0) {
        s.line = 0;
        s.why = "no file listed";
        rc = LOADS_EMPTY;
    }
out:
    if (line != NULL)
        *line = rc == LOADS_OK ? 0 : s.line;
    if (why != NULL)
        *why = rc == LOADS_OK ? NULL : s.why;
    return rc;
}
