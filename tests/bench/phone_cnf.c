/* phone_cnf.c: a bounded extractor of loadInformation and vendorConfig/loadServer
 * from a phone's config file (domain.md, "Config file elements that matter here").
 * It walks elements with a depth-limited stack; it refuses what it does not read
 * (DOCTYPE, markup inside a value) rather than guessing. Pure: no allocation. */
#include "tests/bench/phone_cnf.h"

#include <string.h>

enum capture { CAP_NONE, CAP_LOAD, CAP_SERVER };

struct scan {
    const char *p, *end;
    const char *name[PHONE_CNF_DEPTH_MAX]; /* open elements, pointing into the input */
    size_t name_len[PHONE_CNF_DEPTH_MAX];
    int depth;
    bool root_seen;
    const char *load_tag;
    enum capture cap;
    char *cap_buf; /* out->load or out->load_server while one is open */
    size_t cap_len;
    struct phone_cnf *out;
    const char *why;
};

static int fail(struct scan *s, const char *why)
{
    if (s->why == NULL)
        s->why = why;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
}

static int cap_put(struct scan *s, char c)
{
    if (s->cap_len >= PHONE_CNF_VALUE_MAX)
        return fail(s, "a value over 255 bytes");
    if ((unsigned char)c < 0x20 && !is_space(c))
        return fail(s, "a control character in a value");
    s->cap_buf[s->cap_len++] = c;
    s->cap_buf[s->cap_len] = '\0';
    return 0;
}

/* &#NN; or &#xHH; below 0x80, into *c. */
static int char_ref(const char *v, size_t n, char *c)
{
    unsigned long x = 0;
    int base = 10;
    size_t i = 1;

    if (n >= 2 && v[1] == 'x') {
        base = 16;
        i = 2;
    }
    if (i >= n || n - i > 4)
        return -1;
    for (; i < n; i++) {
        char d = v[i];
        int dv = d >= '0' && d <= '9'   ? d - '0'
                 : d >= 'a' && d <= 'f' ? d - 'a' + 10
                 : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                        : 99;

        if (dv >= base)
            return -1;
        x = x * (unsigned long)base + (unsigned long)dv;
    }
    if (x == 0 || x >= 0x80)
        return -1;
    *c = (char)x;
    return 0;
}

/* An entity at s->p ('&'): decoded into the value. */
static int cap_entity(struct scan *s)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    const char *semi = memchr(s->p, ';', (size_t)(s->end - s->p));
    const char *v = s->p + 1;
    size_t n;
    char c;

    if (semi == NULL || semi - v > 8)
        return fail(s, "an unterminated entity in a value");
    n = (size_t)(semi - v);
    s->p = semi + 1;
    if (n > 0 && v[0] == '#')
        return char_ref(v, n, &c) == 0 ? cap_put(s, c) : fail(s, "a bad character reference");
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(named[i].name, v, n) == 0)
            return cap_put(s, named[i].c);
    return fail(s, "an unknown entity in a value");
}

/* Character data up to the next '<'. */
static int scan_text(struct scan *s)
{
    while (s->p < s->end && *s->p != '<') {
        int rc = 0;

        if (s->cap != CAP_NONE && *s->p == '&')
            rc = cap_entity(s);
        else if (s->cap != CAP_NONE)
            rc = cap_put(s, *s->p++);
        else if (s->depth == 0 && !is_space(*s->p))
            rc = fail(s, "text outside the root element");
        else
            s->p++;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Skips to just past the terminator; "truncated" when it never comes. */
static int skip_past(struct scan *s, const char *term)
{
    const char *t = memmem(s->p, (size_t)(s->end - s->p), term, strlen(term));

    if (t == NULL)
        return fail(s, "truncated inside a comment or declaration");
    s->p = t + strlen(term);
    return 0;
}

static int scan_cdata(struct scan *s)
{
    const char *start = s->p + 9, *t;

    t = memmem(start, (size_t)(s->end - start), "]]>", 3);
    if (t == NULL)
        return fail(s, "truncated inside CDATA");
    if (s->cap == CAP_NONE && s->depth == 0)
        return fail(s, "CDATA outside the root element");
    for (const char *c = start; c < t && s->cap != CAP_NONE; c++)
        if (cap_put(s, *c) != 0)
            return -1;
    s->p = t + 3;
    return 0;
}

static size_t scan_name(struct scan *s)
{
    const char *start = s->p;

    while (s->p < s->end && is_name_char(*s->p))
        s->p++;
    return (size_t)(s->p - start);
}

static bool name_is(const char *n, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(n, want, len) == 0;
}

/* Which value an element just opened at depth d holds, if any. */
static enum capture target_of(const struct scan *s, const char *n, size_t len)
{
    if (s->depth == 2 && name_is(n, len, s->load_tag))
        return CAP_LOAD;
    if (s->depth == 3 && name_is(s->name[1], s->name_len[1], "vendorConfig") &&
        name_is(n, len, "loadServer"))
        return CAP_SERVER;
    return CAP_NONE;
}

static int cap_begin(struct scan *s, enum capture c)
{
    bool *has = c == CAP_LOAD ? &s->out->has_load : &s->out->has_load_server;

    if (*has)
        return fail(s, c == CAP_LOAD ? "the load element twice" : "loadServer twice");
    *has = true;
    s->cap = c;
    s->cap_buf = c == CAP_LOAD ? s->out->load : s->out->load_server;
    s->cap_len = 0;
    s->cap_buf[0] = '\0';
    return 0;
}

/* The value without the white space around it. */
static void cap_end(struct scan *s)
{
    size_t a = 0, n = s->cap_len;

    while (a < n && is_space(s->cap_buf[a]))
        a++;
    while (n > a && is_space(s->cap_buf[n - 1]))
        n--;
    memmove(s->cap_buf, s->cap_buf + a, n - a);
    s->cap_buf[n - a] = '\0';
    s->cap = CAP_NONE;
}

static void pop(struct scan *s)
{
    if (s->cap != CAP_NONE) /* markup inside a value is refused: this closes the value */
        cap_end(s);
    s->depth--;
}

/* Attributes up to '>' (quoted values may hold '>'); *empty for "/>". */
static int skip_attributes(struct scan *s, bool *empty)
{
    char quote = 0;

    for (; s->p < s->end; s->p++) {
        char c = *s->p;

        if (quote != 0) {
            quote = c == quote ? 0 : quote;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            *empty = s->p[-1] == '/';
            s->p++;
            return 0;
        }
    }
    return fail(s, "truncated inside a tag");
}

static int scan_start_tag(struct scan *s)
{
    const char *n;
    size_t len;
    bool empty = false;
    enum capture c;

    s->p++;
    n = s->p;
    len = scan_name(s);
    if (len == 0 || len > PHONE_CNF_NAME_MAX)
        return fail(s, "a bad element name");
    if (s->cap != CAP_NONE)
        return fail(s, "markup inside a value");
    if (s->depth == 0 && s->root_seen)
        return fail(s, "a second root element");
    if (s->depth >= PHONE_CNF_DEPTH_MAX)
        return fail(s, "elements nested too deep");
    if (skip_attributes(s, &empty) != 0)
        return -1;
    s->root_seen = true;
    s->name[s->depth] = n;
    s->name_len[s->depth] = len;
    s->depth++;
    c = target_of(s, n, len);
    if (c != CAP_NONE && cap_begin(s, c) != 0)
        return -1;
    if (empty)
        pop(s);
    return 0;
}

static int scan_end_tag(struct scan *s)
{
    const char *n;
    size_t len;

    s->p += 2;
    n = s->p;
    len = scan_name(s);
    while (s->p < s->end && is_space(*s->p))
        s->p++;
    if (s->p >= s->end)
        return fail(s, "truncated inside a tag");
    if (*s->p != '>' || s->depth == 0 || s->name_len[s->depth - 1] != len ||
        memcmp(s->name[s->depth - 1], n, len) != 0)
        return fail(s, "an end tag that does not match");
    s->p++;
    pop(s);
    return 0;
}

static bool at(const struct scan *s, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(s->end - s->p) >= n && memcmp(s->p, lit, n) == 0;
}

static int scan_markup(struct scan *s)
{
    if (at(s, "<?"))
        return skip_past(s, "?>");
    if (at(s, "<!--"))
        return skip_past(s, "-->");
    if (at(s, "<![CDATA["))
        return scan_cdata(s);
    if (at(s, "<!"))
        return fail(s, "a DOCTYPE or other declaration (not read)");
    if (at(s, "</"))
        return scan_end_tag(s);
    return scan_start_tag(s);
}

int phone_cnf_extract(const char *xml, size_t len, const char *load_tag, struct phone_cnf *out,
                      const char **why)
{
    struct scan s;

    memset(out, 0, sizeof(*out));
    memset(&s, 0, sizeof(s));
    s.p = xml;
    s.end = xml + len;
    s.load_tag = load_tag;
    s.out = out;
    if (len > PHONE_CNF_MAX)
        fail(&s, "config over 65536 bytes");
    while (s.why == NULL && s.p < s.end)
        if (scan_text(&s) == 0 && s.p < s.end)
            scan_markup(&s);
    if (s.why == NULL && !s.root_seen)
        fail(&s, "no root element");
    if (s.why == NULL && s.depth != 0)
        fail(&s, "truncated: an element is not closed");
    *why = s.why;
    if (s.why != NULL)
        memset(out, 0, sizeof(*out));
    return s.why == NULL ? 0 : -1;
}
