/* xmlcheck.c: the XML well-formedness scanner: one pass over the bytes, a
 * stack of open element names, hooks called where a caller's rules apply.
 * Pure: no allocation, no files, no sockets; reads only the len bytes given. */
#include "server/cnf/xmlcheck.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"

/* An XML Char (XML 1.0 section 2.2). */
static bool char_ok(uint32_t cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
           (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/* DEL is an XML Char, refused here too: no config has a use for it. */
size_t xmlcheck_char_len(const unsigned char *p, const unsigned char *end)
{
    unsigned cp = 0;
    size_t n = text_utf8_seq(p, (size_t)(end - p), &cp);

    return n > 0 && char_ok(cp) && cp != 0x7f ? n : 0;
}

struct scan {
    const char *p, *end;
    const char *why;
    struct xmlcheck_name stack[XMLCHECK_DEPTH_MAX];
    unsigned depth;
    bool root_done;
    const struct xmlcheck_hooks *hooks; /* never NULL while scanning */
};

static bool fail(struct scan *s, const char *why)
{
    if (s->why == NULL)
        s->why = why;
    return false;
}

static bool at(const struct scan *s, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(s->end - s->p) >= n && memcmp(s->p, lit, n) == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct scan *s)
{
    while (s->p < s->end && is_space(*s->p))
        s->p++;
}

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* An ASCII XML name, optionally with one prefix ("xsi:type"). */
static bool scan_name(struct scan *s, struct xmlcheck_name *out)
{
    const char *start = s->p;

    for (int part = 0; part < 2; part++) {
        if (s->p >= s->end || !name_start(*s->p))
            return fail(s, "expected a name (ASCII letters, digits, '_', '.', '-')");
        while (s->p < s->end && name_char(*s->p))
            s->p++;
        if (part == 1 || s->p >= s->end || *s->p != ':')
            break;
        s->p++;
    }
    out->p = start;
    out->n = (size_t)(s->p - start);
    return true;
}

bool xmlcheck_name_is(const struct xmlcheck_name *name, const char *lit)
{
    return name->n == strlen(lit) && memcmp(name->p, lit, name->n) == 0;
}

static bool scan_charref(struct scan *s)
{
    bool hex = s->p < s->end && *s->p == 'x';
    uint32_t cp = 0;
    unsigned digits = 0;

    s->p += hex;
    for (; s->p < s->end && *s->p != ';'; s->p++, digits++) {
        char c = *s->p;
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            d = (unsigned)((c | 0x20) - 'a' + 10);
        else
            return fail(s, "bad character reference");
        if (cp > 0x10ffff)
            return fail(s, "character reference out of range");
        cp = cp * (hex ? 16u : 10u) + d;
    }
    if (s->p >= s->end || digits == 0 || !char_ok(cp))
        return fail(s, "bad character reference");
    s->p++;
    return true;
}

/* After '&': one of the five predefined entities or a numeric reference. */
static bool scan_reference(struct scan *s)
{
    static const char *const names[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};

    s->p++;
    if (s->p < s->end && *s->p == '#') {
        s->p++;
        return scan_charref(s);
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (at(s, names[i])) {
            s->p += strlen(names[i]);
            return true;
        }
    return fail(s, "unknown entity (only &amp; &lt; &gt; &quot; &apos; and &#N; are allowed)");
}

/* "{{" where the hooks take placeholders. */
static bool at_marker(const struct scan *s)
{
    return s->hooks->placeholder != NULL && at(s, "{{");
}

/* The caller's placeholder at "{{", skipped when the hook takes it. */
static bool scan_placeholder(struct scan *s, bool in_text)
{
    const struct xmlcheck_hooks *h = s->hooks;
    const char *why = NULL;
    size_t len = 0;

    if (h->placeholder(h->arg, s->p, (size_t)(s->end - s->p), s->stack, s->depth, in_text, &len,
                       &why) != XMLCHECK_OK)
        return fail(s, why != NULL ? why : "refused placeholder");
    if (len < 2 || len > (size_t)(s->end - s->p))
        return fail(s, "refused placeholder");
    s->p += len;
    return true;
}

/* One step through character data or an attribute value: a reference, a
 * placeholder, or one plain byte. */
static bool scan_data(struct scan *s, bool in_text)
{
    if (*s->p == '&')
        return scan_reference(s);
    if (at_marker(s))
        return scan_placeholder(s, in_text);
    s->p++;
    return true;
}

/* Character data up to the next '<' (or the end). */
static bool scan_text(struct scan *s)
{
    while (s->p < s->end && *s->p != '<') {
        if (s->depth == 0 && !is_space(*s->p))
            return fail(s, "text outside the root element");
        if (at(s, "]]>"))
            return fail(s, "\"]]>\" in text");
        if (!scan_data(s, true))
            return false;
    }
    return true;
}

/* Scans to the terminator; no placeholder may stand in between. */
static bool scan_until(struct scan *s, const char *term, const char *why)
{
    size_t n = strlen(term);

    for (; s->p < s->end; s->p++) {
        if (at(s, term)) {
            s->p += n;
            return true;
        }
        if (at_marker(s))
            return fail(s, "placeholder outside text or an attribute value");
    }
    return fail(s, why);
}

static bool scan_comment(struct scan *s)
{
    s->p += 4; /* "<!--" */
    for (; s->p < s->end; s->p++) {
        if (at(s, "-->")) {
            s->p += 3;
            return true;
        }
        if (at(s, "--"))
            return fail(s, "\"--\" inside a comment");
        if (at_marker(s))
            return fail(s, "placeholder outside text or an attribute value");
    }
    return fail(s, "unterminated comment");
}

/* One pseudo-attribute of the XML declaration: S name = 'value' or "value",
 * the value one of the allowed ones (ASCII case-insensitive when fold). */
static bool scan_decl_attr(struct scan *s, const char *name, const char *const *values, bool fold)
{
    const char *start = s->p;

    skip_space(s);
    if (s->p == start || !at(s, name))
        return false;
    s->p += strlen(name);
    skip_space(s);
    if (!at(s, "="))
        return fail(s, "bad XML declaration");
    s->p++;
    skip_space(s);
    for (; *values != NULL; values++) {
        size_t n = strlen(*values);

        if ((size_t)(s->end - s->p) < n + 2 || (*s->p != '"' && *s->p != '\'') ||
            s->p[n + 1] != *s->p)
            continue;
        if (fold ? strncasecmp(s->p + 1, *values, n) == 0 : memcmp(s->p + 1, *values, n) == 0) {
            s->p += n + 2;
            return true;
        }
    }
    return fail(s, "bad XML declaration (version 1.0, encoding UTF-8 only)");
}

/* After "<?xml": version, then optional encoding and standalone, then "?>". */
static bool scan_xmldecl(struct scan *s)
{
    static const char *const version[] = {"1.0", NULL};
    static const char *const encoding[] = {"UTF-8", NULL};
    static const char *const standalone[] = {"yes", "no", NULL};
    const char *mark;

    if (!scan_decl_attr(s, "version", version, false))
        return fail(s, "bad XML declaration (no version)");
    mark = s->p;
    if (!scan_decl_attr(s, "encoding", encoding, true)) {
        if (s->why != NULL)
            return false;
        s->p = mark;
    }
    mark = s->p;
    if (!scan_decl_attr(s, "standalone", standalone, false)) {
        if (s->why != NULL)
            return false;
        s->p = mark;
    }
    skip_space(s);
    if (!at(s, "?>"))
        return fail(s, "bad XML declaration");
    s->p += 2;
    return true;
}

static bool scan_pi(struct scan *s, bool first)
{
    struct xmlcheck_name target;

    s->p += 2; /* "<?" */
    if (!scan_name(s, &target))
        return false;
    if (first && xmlcheck_name_is(&target, "xml"))
        return scan_xmldecl(s);
    if (target.n == 3 && (target.p[0] | 0x20) == 'x' && (target.p[1] | 0x20) == 'm' &&
        (target.p[2] | 0x20) == 'l')
        return fail(s, "the XML declaration is allowed only at the very start");
    if (s->p < s->end && !is_space(*s->p) && !at(s, "?>"))
        return fail(s, "bad processing instruction");
    return scan_until(s, "?>", "unterminated processing instruction");
}

static bool scan_attr_value(struct scan *s)
{
    char quote;

    if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
        return fail(s, "attribute value not quoted");
    quote = *s->p++;
    while (s->p < s->end && *s->p != quote) {
        if (*s->p == '<')
            return fail(s, "'<' in an attribute value");
        if (!scan_data(s, false))
            return false;
    }
    if (s->p >= s->end)
        return fail(s, "unterminated attribute value");
    s->p++;
    return true;
}

/* One attribute "name = value", unique on its element. */
static bool scan_attr(struct scan *s, struct xmlcheck_name *names, unsigned *n_names)
{
    struct xmlcheck_name name;

    if (!scan_name(s, &name))
        return false;
    if (xmlcheck_name_is(&name, "xmlns") || (name.n > 6 && memcmp(name.p, "xmlns:", 6) == 0))
        return fail(s, "namespace declarations are not supported");
    for (unsigned i = 0; i < *n_names; i++)
        if (names[i].n == name.n && memcmp(names[i].p, name.p, name.n) == 0)
            return fail(s, "duplicate attribute");
    if (*n_names == XMLCHECK_ATTRS_MAX)
        return fail(s, "too many attributes on one element");
    names[(*n_names)++] = name;
    skip_space(s);
    if (s->p >= s->end || *s->p != '=')
        return fail(s, "expected '=' after an attribute name");
    s->p++;
    skip_space(s);
    return scan_attr_value(s);
}

static bool push_element(struct scan *s, const struct xmlcheck_name *name)
{
    const struct xmlcheck_hooks *h = s->hooks;
    const char *why = NULL;

    if (s->depth == 0 && s->root_done)
        return fail(s, "more than one root element");
    if (s->depth == XMLCHECK_DEPTH_MAX)
        return fail(s, "elements nested too deeply");
    s->stack[s->depth++] = *name;
    if (h->element != NULL && h->element(h->arg, s->stack, s->depth, &why) != XMLCHECK_OK)
        return fail(s, why != NULL ? why : "refused element");
    return true;
}

static void pop_element(struct scan *s)
{
    s->depth--;
    if (s->depth == 0)
        s->root_done = true;
}

static bool scan_start_tag(struct scan *s)
{
    struct xmlcheck_name name, attrs[XMLCHECK_ATTRS_MAX];
    unsigned n_attrs = 0;

    s->p++; /* "<" */
    if (!scan_name(s, &name) || !push_element(s, &name))
        return false;
    for (;;) {
        bool spaced = s->p < s->end && is_space(*s->p);

        skip_space(s);
        if (at(s, "/>")) {
            s->p += 2;
            pop_element(s);
            return true;
        }
        if (at(s, ">")) {
            s->p++;
            return true;
        }
        if (s->p >= s->end)
            return fail(s, "unterminated start tag");
        if (!spaced)
            return fail(s, "expected a space before an attribute");
        if (!scan_attr(s, attrs, &n_attrs))
            return false;
    }
}

static bool scan_end_tag(struct scan *s)
{
    struct xmlcheck_name name;

    s->p += 2; /* "</" */
    if (!scan_name(s, &name))
        return false;
    if (s->depth == 0 || s->stack[s->depth - 1].n != name.n ||
        memcmp(s->stack[s->depth - 1].p, name.p, name.n) != 0)
        return fail(s, "end tag does not match the open element");
    skip_space(s);
    if (!at(s, ">"))
        return fail(s, "unterminated end tag");
    s->p++;
    pop_element(s);
    return true;
}

static bool scan_markup(struct scan *s, bool first)
{
    if (at(s, "<!--"))
        return scan_comment(s);
    if (at(s, "<?"))
        return scan_pi(s, first);
    if (at(s, "<![CDATA[")) {
        if (s->depth == 0)
            return fail(s, "CDATA outside the root element");
        s->p += 9;
        return scan_until(s, "]]>", "unterminated CDATA section");
    }
    if (at(s, "<!"))
        return fail(s, "DOCTYPE and other declarations are not allowed");
    if (at(s, "</"))
        return scan_end_tag(s);
    return scan_start_tag(s);
}

static bool scan_encoding(struct scan *s)
{
    const unsigned char *p = (const unsigned char *)s->p;
    const unsigned char *end = (const unsigned char *)s->end;

    while (p < end) {
        size_t n = xmlcheck_char_len(p, end);

        if (n == 0)
            return fail(s, "not UTF-8, or a character XML does not allow");
        p += n;
    }
    return true;
}

static bool scan_document(struct scan *s)
{
    bool first = true;

    if (at(s, "\xef\xbb\xbf"))
        s->p += 3;
    while (s->p < s->end) {
        if (*s->p == '<') {
            if (!scan_markup(s, first))
                return false;
        } else if (!scan_text(s)) {
            return false;
        }
        first = false;
    }
    if (s->depth != 0)
        return fail(s, "unclosed element at the end");
    if (!s->root_done)
        return fail(s, "no root element");
    return true;
}

int xmlcheck_document(const char *text, size_t len, const struct xmlcheck_hooks *hooks,
                      const char **why)
{
    static const struct xmlcheck_hooks plain = {NULL, NULL, NULL};
    struct scan s = {.p = text, .end = text + len, .hooks = hooks != NULL ? hooks : &plain};
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (text == NULL || len == 0)
        return *why = "empty document", XMLCHECK_INVALID;
    if (!scan_encoding(&s) || !scan_document(&s))
        return *why = s.why, XMLCHECK_INVALID;
    return XMLCHECK_OK;
}
