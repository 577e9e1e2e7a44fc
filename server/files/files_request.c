/* files_request.c: pure parsing for the HTTP file service: path escapes, the
 * path's kind (a name, a blob, a manifest), one Range, entity tags and HTTP
 * dates. Every number from the wire has a range; nothing here allocates,
 * logs or touches a file. */
#include "server/files/files_request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FILES_NUM_DIGITS_MAX 19 /* 10^19 - 1 still fits a uint64_t */

static const char *const wday_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t files_unescape(char *s)
{
    size_t in = 0, out = 0;

    while (s[in] != '\0') {
        unsigned char c = (unsigned char)s[in];
        int hi, lo;

        if (c == '%' && (hi = hex_value(s[in + 1])) >= 0 && (lo = hex_value(s[in + 2])) >= 0) {
            c = (unsigned char)(hi * 16 + lo);
            in += 3;
        } else {
            in++;
        }
        s[out++] = (char)(c < 0x20 || c == 0x7f ? 0x7f : c);
    }
    s[out] = '\0';
    return out;
}

static enum files_target blob_parse(const char *path, char *hex)
{
    size_t plen = sizeof(FILES_BLOB_PREFIX) - 1;
    const char *h;

    if (strncmp(path, FILES_BLOB_PREFIX, plen) != 0)
        return FILES_TARGET_NONE;
    h = path + plen;
    if (strlen(h) != FILES_HEX_LEN)
        return FILES_TARGET_NONE;
    for (size_t i = 0; i < FILES_HEX_LEN; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return FILES_TARGET_NONE;
    }
    memcpy(hex, h, FILES_HEX_LEN + 1);
    return FILES_TARGET_BLOB;
}

/* A load name as a manifest path carries it: one path component, printable. */
static bool load_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > FILES_LOAD_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

static enum files_target manifest_parse(const char *path, char *name)
{
    size_t llen = sizeof(FILES_LOADS_LIST) - 1;

    if (strncmp(path, FILES_LOADS_LIST, llen) != 0)
        return FILES_TARGET_NONE;
    path += llen;
    if (*path == '\0')
        return FILES_TARGET_LOADS;
    if (*path++ != '/')
        return FILES_TARGET_NONE; /* "/manifests/v1/loadsx" */
    if (!load_name_ok(path))
        return FILES_TARGET_BAD_LOAD;
    memcpy(name, path, strlen(path) + 1);
    return FILES_TARGET_LOAD;
}

enum files_target files_target_parse(const char *path, char *arg)
{
    if (strncmp(path, "/blobs/", 7) == 0)
        return blob_parse(path, arg);
    if (strncmp(path, FILES_MANIFESTS, sizeof(FILES_MANIFESTS) - 1) == 0)
        return manifest_parse(path, arg);
    return FILES_TARGET_NAME;
}

/* A decimal number at *p (at most FILES_NUM_DIGITS_MAX digits): 0, or -1
 * when there is none or it is too long. */
static int parse_num(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    while (**p >= '0' && **p <= '9') {
        if (++n > FILES_NUM_DIGITS_MAX)
            return -1;
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    if (n == 0)
        return -1;
    *out = v;
    return 0;
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One range-spec at p, up to the end: "A-B", "A-" or "-N". */
static enum files_range_result range_spec(const char *p, uint64_t size, struct files_range *out)
{
    uint64_t a, b;

    if (*p == '-') {
        p++;
        if (parse_num(&p, &b) != 0 || *skip_ows(p) != '\0')
            return FILES_RANGE_WHOLE;
        if (b == 0 || size == 0)
            return FILES_RANGE_NOT_SATISFIABLE;
        out->first = b >= size ? 0 : size - b;
        out->last = size - 1;
        return FILES_RANGE_ONE;
    }
    if (parse_num(&p, &a) != 0 || *p++ != '-')
        return FILES_RANGE_WHOLE;
    b = UINT64_MAX;
    if (*p >= '0' && *p <= '9' && parse_num(&p, &b) != 0)
        return FILES_RANGE_WHOLE;
    if (*skip_ows(p) != '\0' || b < a)
        return FILES_RANGE_WHOLE; /* invalid: ignored (RFC 9110 section 14.2) */
    if (a >= size)
        return FILES_RANGE_NOT_SATISFIABLE;
    out->first = a;
    out->last = b >= size ? size - 1 : b;
    return FILES_RANGE_ONE;
}

enum files_range_result files_range_parse(const char *hdr, uint64_t size, struct files_range *out)
{
    if (hdr == NULL || strncasecmp(hdr, "bytes", 5) != 0)
        return FILES_RANGE_WHOLE;
    hdr = skip_ows(hdr + 5);
    if (*hdr++ != '=')
        return FILES_RANGE_WHOLE;
    hdr = skip_ows(hdr);
    /* Several ranges: the whole representation is a valid answer and
     * spares every client a multipart/byteranges body. */
    if (strchr(hdr, ',') != NULL)
        return FILES_RANGE_WHOLE;
    return range_spec(hdr, size, out);
}

void files_etag_format(const char *hex, char *out, size_t cap)
{
    snprintf(out, cap, "%s%.64s\"", FILES_ETAG_PREFIX, hex);
}

/* Compares the entity tag at p (length n, a W/ prefix already dropped) with etag. */
static bool tag_equal(const char *p, size_t n, const char *etag)
{
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    return strlen(etag) == n && memcmp(p, etag, n) == 0;
}

bool files_etag_listed(const char *hdr, const char *etag)
{
    const char *p = hdr;

    if (hdr == NULL || etag == NULL)
        return false;
    while (*(p = skip_ows(p)) != '\0') {
        const char *start, *end;

        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            return false; /* malformed: matches nothing */
        start = p;
        end = strchr(p + 1, '"');
        if (end == NULL)
            return false;
        if (tag_equal(start, (size_t)(end - start + 1), etag))
            return true;
        p = end + 1;
    }
    return false;
}

bool files_if_range_holds(const char *hdr, const char *etag, time_t mtime)
{
    time_t t;

    if (hdr == NULL)
        return true;
    hdr = skip_ows(hdr);
    if (hdr[0] == '"' || strncmp(hdr, "W/", 2) == 0) /* a weak tag never holds */
        return etag != NULL && strcmp(hdr, etag) == 0;
    return files_date_parse(hdr, &t) == 0 && t == mtime;
}

void files_date_format(time_t t, char *out, size_t cap)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, cap, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday_names[tm.tm_wday], tm.tm_mday,
             month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* n digits at s into *out; 0 or -1. */
static int fixed_digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int name_index(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        if (strncmp(s, names[i], 3) == 0)
            return i;
    }
    return -1;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT": the fixed layout, checked field by field. */
int files_date_parse(const char *s, time_t *out)
{
    struct tm tm = {0};
    int mon, year;

    if (s == NULL || strlen(s) != FILES_DATE_LEN || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        strcmp(s + 25, " GMT") != 0 || name_index(s, wday_names, 7) < 0)
        return -1;
    mon = name_index(s + 8, month_names, 12);
    if (mon < 0 || fixed_digits(s + 5, 2, &tm.tm_mday) != 0 ||
        fixed_digits(s + 12, 4, &year) != 0 || fixed_digits(s + 17, 2, &tm.tm_hour) != 0 ||
        fixed_digits(s + 20, 2, &tm.tm_min) != 0 || fixed_digits(s + 23, 2, &tm.tm_sec) != 0)
        return -1;
    if (tm.tm_mday < 1 || tm.tm_mday > 31 || year < 1970 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    tm.tm_mon = mon;
    tm.tm_year = year - 1900;
    *out = timegm(&tm);
    return 0;
}
