/* xmlcheck.h: a well-formedness checker for the small XML documents loadsd
 * renders and takes as templates, with hooks for what a caller adds
 * (placeholders, a required root). Pure: a function of the bytes; never
 * allocates, never touches files or sockets.
 *
 * Well-formed here means: UTF-8 with only XML characters (DEL refused too),
 * an optional XML declaration (version 1.0, encoding UTF-8) at the very
 * start, one root element, tags that nest and close, names of ASCII letters,
 * digits, '_', '.', '-' with at most one prefix, quoted and unique
 * attributes (at most XMLCHECK_ATTRS_MAX on an element, no namespace
 * declarations), nesting at most XMLCHECK_DEPTH_MAX, comments, processing
 * instructions and CDATA; no DOCTYPE, only the five predefined entities and
 * numeric character references. Stricter than XML where that keeps it small. */
#ifndef LOADSD_XMLCHECK_H
#define LOADSD_XMLCHECK_H

#include <stdbool.h>
#include <stddef.h>

#define XMLCHECK_DEPTH_MAX 32 /* element nesting */
#define XMLCHECK_ATTRS_MAX 16 /* attributes on one element */

/* Results (0 or negative). */
enum xmlcheck_result {
    XMLCHECK_OK = 0,
    XMLCHECK_INVALID = -1, /* not well-formed, or a hook refused it */
};

/* A name as it stands in the checked text (not NUL-terminated). */
struct xmlcheck_name {
    const char *p;
    size_t n;
};

/* What a caller adds to plain XML. Each hook returns XMLCHECK_OK, or
 * XMLCHECK_INVALID with *why set to a static English reason. path holds the
 * open elements, outermost first, depth of them. */
struct xmlcheck_hooks {
    /* A start tag's name was read; it is path[depth - 1]. NULL: any name. */
    int (*element)(void *arg, const struct xmlcheck_name *path, unsigned depth, const char **why);
    /* "{{" stands at p (avail bytes left) in character data (in_text) or an
     * attribute value: *len gets the length of the placeholder there. NULL:
     * "{{" is plain text. When set, "{{" anywhere else (a comment, a
     * processing instruction, CDATA) makes the document invalid. */
    int (*placeholder)(void *arg, const char *p, size_t avail, const struct xmlcheck_name *path,
                       unsigned depth, bool in_text, size_t *len, const char **why);
    void *arg;
};

/* Checks len bytes of text (no size limit here: the caller sets one).
 * hooks may be NULL (plain XML). XMLCHECK_OK with *why NULL, or
 * XMLCHECK_INVALID with *why set to a static English reason (why may be NULL). */
int xmlcheck_document(const char *text, size_t len, const struct xmlcheck_hooks *hooks,
                      const char **why);

/* The length of the UTF-8 sequence at p (p < end) when it encodes a
 * character XML allows (DEL refused too), else 0. */
size_t xmlcheck_char_len(const unsigned char *p, const unsigned char *end);

/* Whether the name is exactly lit. */
bool xmlcheck_name_is(const struct xmlcheck_name *name, const char *lit);

#endif
