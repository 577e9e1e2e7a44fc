/* cnf.c: the config file renderer (placeholders filled with escaped values,
 * a content-derived versionStamp) and the template checker, a small XML
 * well-formedness scanner. Pure: no database, no files, no sockets. */
#include "server/cnf/cnf.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/grow.h"

const char cnf_default_template[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<device>\n"
    "  <fullConfig>true</fullConfig>\n"
    "  <deviceProtocol>{{PROTOCOL}}</deviceProtocol>\n"
    "  <devicePool>\n"
    "    <name>Default</name>\n"
    "    <callManagerGroup>\n"
    "      <name>Default</name>\n"
    "      <tftpDefault>true</tftpDefault>\n"
    "      <members>\n"
    "        <member priority=\"0\">\n"
    "          <callManager>\n"
    "            <name>{{CM_ADDRESS}}</name>\n"
    "            <ports>\n"
    "              <ethernetPhonePort>2000</ethernetPhonePort>\n"
    "              <sipPort>5060</sipPort>\n"
    "            </ports>\n"
    "            <processNodeName>{{CM_ADDRESS}}</processNodeName>\n"
    "          </callManager>\n"
    "        </member>\n"
    "      </members>\n"
    "    </callManagerGroup>\n"
    "  </devicePool>\n"
    "  <vendorConfig>\n"
    "    <peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>\n"
    "    <loadServer>{{LOAD_SERVER}}</loadServer>\n"
    "  </vendorConfig>\n"
    "  <versionStamp>{{VERSION_STAMP}}</versionStamp>\n"
    "  <loadInformation>{{LOAD}}</loadInformation>\n"
    "  <inactiveLoadInformation></inactiveLoadInformation>\n"
    "</device>\n";

/* ---- placeholders ---------------------------------------------------- */

enum cnf_ph {
    PH_LOAD,
    PH_PFS,
    PH_LOAD_SERVER,
    PH_CM_ADDRESS,
    PH_PROTOCOL,
    PH_VERSION_STAMP,
    PH_MAC,
    PH_DESCRIPTION,
    PH_MODEL,
    PH_COUNT,
};

static const char *const ph_names[PH_COUNT] = {
    [PH_LOAD] = "LOAD",
    [PH_PFS] = "PFS",
    [PH_LOAD_SERVER] = "LOAD_SERVER",
    [PH_CM_ADDRESS] = "CM_ADDRESS",
    [PH_PROTOCOL] = "PROTOCOL",
    [PH_VERSION_STAMP] = "VERSION_STAMP",
    [PH_MAC] = "MAC",
    [PH_DESCRIPTION] = "DESCRIPTION",
    [PH_MODEL] = "MODEL",
};

#define PH_NAME_MAX 16

/* p points at "{{": the placeholder there and its length ("{{...}}"), or -1. */
static int ph_match(const char *p, const char *end, size_t *len)
{
    const char *close;
    size_t n;

    if (end - p < 4 || p[0] != '{' || p[1] != '{')
        return -1;
    close = memchr(p + 2, '}',
                   (size_t)(end - p - 2) < PH_NAME_MAX ? (size_t)(end - p - 2) : PH_NAME_MAX);
    if (close == NULL || close + 1 >= end || close[1] != '}')
        return -1;
    n = (size_t)(close - (p + 2));
    for (int i = 0; i < PH_COUNT; i++)
        if (strlen(ph_names[i]) == n && memcmp(ph_names[i], p + 2, n) == 0) {
            *len = n + 4;
            return i;
        }
    return -1;
}

/* ---- output buffer ------------------------------------------------------ */

void cnf_buf_free(struct cnf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Room for more bytes and the NUL after them. */
static int buf_reserve(struct cnf_buf *b, size_t more)
{
    void *data = b->data;

    if (b->cap - b->len > more)
        return CNF_OK;
    if (more > SIZE_MAX - b->len - 1 || grow_array(&data, &b->cap, b->len + more + 1, 1, 4096) != 0)
        return CNF_NOMEM;
    b->data = data;
    return CNF_OK;
}

static int buf_put(struct cnf_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) != CNF_OK)
        return CNF_NOMEM;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CNF_OK;
}

static int buf_puts(struct cnf_buf *b, const char *s)
{
    return buf_put(b, s, strlen(s));
}

/* An ASCII byte XML allows as a character (DEL is refused too). */
static bool ascii_ok(unsigned char c)
{
    return (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the valid UTF-8 sequence at p (an XML Char), or 0. */
static size_t utf8_char(const unsigned char *p, const unsigned char *end)
{
    uint32_t cp;
    size_t n;

    if (p[0] < 0x80)
        return ascii_ok(p[0]) ? 1 : 0;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, cp = p[0] & 0x1fu;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, cp = p[0] & 0x0fu;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, cp = p[0] & 0x07u;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return n;
}

/* The entity for one of the five markup characters, or NULL. */
static const char *entity_of(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&apos;";
    default:
        return NULL;
    }
}

/* Escapes the five markup characters; a byte that is not a valid XML
 * character (control bytes, broken UTF-8) becomes '?'. */
int cnf_buf_escape(struct cnf_buf *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + strlen(text);
    int rc = CNF_OK;

    while (p < end && rc == CNF_OK) {
        const unsigned char *run = p;
        const char *entity;
        size_t n;

        while (p < end && *p >= 0x20 && *p < 0x7f && entity_of(*p) == NULL)
            p++;
        if (p > run)
            rc = buf_put(out, (const char *)run, (size_t)(p - run));
        if (p == end || rc != CNF_OK)
            break;
        entity = entity_of(*p);
        n = entity != NULL ? 0 : utf8_char(p, end);
        if (entity != NULL)
            rc = buf_puts(out, entity);
        else
            rc = n > 0 ? buf_put(out, (const char *)p, n) : buf_puts(out, "?");
        p += n > 0 ? n : 1;
    }
    return rc;
}

/* ---- rendering ------------------------------------------------------------ */

struct render_values {
    const char *v[PH_COUNT]; /* raw values; VERSION_STAMP is handled apart */
};

struct stamp_slots {
    size_t at[CNF_STAMP_SLOTS];
    size_t n;
};

/* Writes the stamp: SHA-256 over the output minus the reserved slots (that
 * is, the document as rendered with an empty stamp), first 16 hex digits. */
static int stamp_fill(struct cnf_buf *out, const struct stamp_slots *slots)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t from = 0;
    int rc = CNF_NOMEM;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    for (size_t i = 0; i <= slots->n; i++) {
        size_t to = i < slots->n ? slots->at[i] : out->len;

        if (EVP_DigestUpdate(ctx, out->data + from, to - from) != 1)
            goto out;
        from = to + CNF_STAMP_LEN;
    }
    if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len * 2 < CNF_STAMP_LEN)
        goto out;
    for (size_t i = 0; i < slots->n; i++)
        for (size_t k = 0; k < CNF_STAMP_LEN; k++)
            out->data[slots->at[i] + k] = hex[(md[k / 2] >> (k % 2 ? 0 : 4)) & 0xf];
    rc = CNF_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* One placeholder: its escaped value, or a reserved stamp slot. */
static int render_placeholder(int ph, const struct render_values *vals, struct stamp_slots *slots,
                              struct cnf_buf *out)
{
    if (ph != PH_VERSION_STAMP)
        return cnf_buf_escape(out, vals->v[ph] ? vals->v[ph] : "");
    if (slots->n == CNF_STAMP_SLOTS)
        return CNF_INVALID;
    slots->at[slots->n++] = out->len;
    return buf_put(out, "0000000000000000", CNF_STAMP_LEN);
}

static int render_template(const char *tmpl, size_t len, const struct render_values *vals,
                           struct cnf_buf *out)
{
    const char *p = tmpl, *end = tmpl + len;
    struct stamp_slots slots = {.n = 0};
    int rc = buf_reserve(out, len + 512);

    out->len = 0;
    while (rc == CNF_OK && p < end) {
        const char *brace = memchr(p, '{', (size_t)(end - p));
        size_t ph_len = 0;
        int ph;

        if (brace == NULL)
            brace = end;
        rc = buf_put(out, p, (size_t)(brace - p));
        if (rc != CNF_OK || brace == end)
            break;
        ph = ph_match(brace, end, &ph_len);
        if (ph < 0) {
            rc = buf_put(out, brace, 1);
            p = brace + 1;
            continue;
        }
        rc = render_placeholder(ph, vals, &slots, out);
        p = brace + ph_len;
    }
    if (rc == CNF_OK)
        rc = stamp_fill(out, &slots);
    return rc;
}

int cnf_render_device(const char *tmpl, size_t tmpl_len, const struct settings_effective *eff,
                      const char *cm_address, struct cnf_buf *out)
{
    struct render_values vals = {{NULL}};

    if (eff == NULL || eff->device == NULL || eff->model == NULL)
        return CNF_INVALID;
    if (tmpl == NULL) {
        tmpl = cnf_default_template;
        tmpl_len = sizeof(cnf_default_template) - 1;
    }
    if (tmpl_len > CNF_TEMPLATE_MAX)
        return CNF_INVALID;
    /* The load the phone can finish, never merely the one it is assigned. */
    vals.v[PH_LOAD] = eff->served;
    vals.v[PH_PFS] = strcmp(eff->pfs.value, "on") == 0 ? "1" : "0";
    vals.v[PH_LOAD_SERVER] = eff->load_server.value;
    vals.v[PH_CM_ADDRESS] = cm_address;
    vals.v[PH_PROTOCOL] = eff->model->protocol;
    vals.v[PH_MAC] = eff->device->mac;
    vals.v[PH_DESCRIPTION] = eff->device->description;
    vals.v[PH_MODEL] = eff->model->name;
    return render_template(tmpl, tmpl_len, &vals, out);
}

/* A profile's uploaded template, or the default (tmpl NULL). */
static int template_for(const struct settings_effective *eff, const char **tmpl, size_t *len)
{
    const char *why = NULL;

    *tmpl = NULL;
    *len = 0;
    if (eff->profile == NULL || eff->profile->template_xml == NULL)
        return CNF_OK;
    *len = strlen(eff->profile->template_xml);
    if (cnf_template_check(eff->profile->template_xml, *len, &why) != CNF_OK)
        return CNF_INVALID;
    *tmpl = eff->profile->template_xml;
    return CNF_OK;
}

int cnf_render_mac(const struct settings_snapshot *s, const char *mac, const struct sockaddr *from,
                   struct cnf_buf *out)
{
    struct settings_effective eff;
    const char *tmpl;
    size_t len;
    int rc;

    if (s == NULL || mac == NULL)
        return CNF_INVALID;
    if (settings_resolve(s, mac, from, &eff) != 0)
        return CNF_UNKNOWN;
    rc = template_for(&eff, &tmpl, &len);
    if (rc == CNF_OK)
        rc = cnf_render_device(tmpl, len, &eff, s->enterprise.cm_address, out);
    return rc;
}

enum cnf_name cnf_name_parse(const char *name, char mac[SETTINGS_MAC_LEN + 1])
{
    static const char suffix[] = ".cnf.xml";
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == strlen(CNF_DEFAULT_NAME) && strcasecmp(name, CNF_DEFAULT_NAME) == 0)
        return CNF_NAME_DEFAULT;
    if (n != 3 + SETTINGS_MAC_LEN + strlen(suffix) || strncasecmp(name, "SEP", 3) != 0 ||
        strcasecmp(name + 3 + SETTINGS_MAC_LEN, suffix) != 0)
        return CNF_NAME_OTHER;
    for (size_t i = 0; i < SETTINGS_MAC_LEN; i++) {
        char c = name[3 + i];

        if (c >= 'a' && c <= 'f')
            c = (char)(c - 'a' + 'A');
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
            return CNF_NAME_OTHER;
        mac[i] = c;
    }
    mac[SETTINGS_MAC_LEN] = '\0';
    return CNF_NAME_DEVICE;
}

static int render_default_model(const struct settings_model *m, struct cnf_buf *out)
{
    char type[32];
    int rc;

    snprintf(type, sizeof(type), "%u", m->device_type);
    rc = buf_puts(out, "  <loadInformation");
    if (rc == CNF_OK)
        rc = buf_puts(out, type);
    if (rc == CNF_OK)
        rc = buf_puts(out, " model=\"");
    if (rc == CNF_OK)
        rc = cnf_buf_escape(out, m->name);
    if (rc == CNF_OK)
        rc = buf_puts(out, "\">");
    if (rc == CNF_OK)
        rc = cnf_buf_escape(out, m->default_load);
    if (rc == CNF_OK)
        rc = buf_puts(out, "</loadInformation");
    if (rc == CNF_OK)
        rc = buf_puts(out, type);
    if (rc == CNF_OK)
        rc = buf_puts(out, ">\n");
    return rc;
}

int cnf_render_default(const struct settings_snapshot *s, struct cnf_buf *out)
{
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                               "<Default>\n"
                               "  <callManagerGroup>\n"
                               "    <members>\n"
                               "      <member priority=\"0\">\n"
                               "        <callManager>\n"
                               "          <ports>\n"
                               "            <ethernetPhonePort>2000</ethernetPhonePort>\n"
                               "            <sipPort>5060</sipPort>\n"
                               "          </ports>\n"
                               "          <processNodeName>";
    static const char mid[] = "</processNodeName>\n"
                              "        </callManager>\n"
                              "      </member>\n"
                              "    </members>\n"
                              "  </callManagerGroup>\n";
    int rc;

    if (s == NULL)
        return CNF_INVALID;
    out->len = 0;
    rc = buf_puts(out, head);
    if (rc == CNF_OK)
        rc = cnf_buf_escape(out, s->enterprise.cm_address);
    if (rc == CNF_OK)
        rc = buf_puts(out, mid);
    /* A default whose load is not servable is left out: the phone keeps
     * the load it runs instead of starting an upgrade it cannot finish. */
    for (size_t i = 0; i < s->n_models && rc == CNF_OK; i++)
        if (settings_load_state_of(s, s->models[i].default_load) == SETTINGS_LOAD_OK)
            rc = render_default_model(&s->models[i], out);
    if (rc == CNF_OK)
        rc = buf_puts(out, "</Default>\n");
    return rc;
}

/* ---- the template checker ---------------------------------------------- */

struct span {
    const char *p;
    size_t n;
};

struct scan {
    const char *p, *end;
    const char *why;
    struct span stack[CNF_DEPTH_MAX];
    unsigned depth;
    bool root_done;
    bool tmpl;           /* a template: placeholders and the required elements count */
    bool seen[PH_COUNT]; /* required placeholders found in their elements */
    unsigned stamps;
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
static bool scan_name(struct scan *s, struct span *out)
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

static bool span_is(const struct span *sp, const char *lit)
{
    return sp->n == strlen(lit) && memcmp(sp->p, lit, sp->n) == 0;
}

/* An XML Char for a numeric reference. */
static bool char_ok(uint32_t cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
           (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
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

/* Notes where a placeholder stands: the required ones count only in their
 * element (in_text) directly under the root's path. */
static void note_placeholder(struct scan *s, int ph, bool in_text)
{
    static const char *const paths[PH_COUNT][3] = {
        [PH_LOAD] = {"device", "loadInformation", NULL},
        [PH_PFS] = {"device", "vendorConfig", "peerFirmwareSharing"},
        [PH_LOAD_SERVER] = {"device", "vendorConfig", "loadServer"},
        [PH_VERSION_STAMP] = {"device", "versionStamp", NULL},
    };
    unsigned n = 0;

    if (ph == PH_VERSION_STAMP)
        s->stamps++;
    if (!in_text || paths[ph][0] == NULL)
        return;
    while (n < 3 && paths[ph][n] != NULL)
        n++;
    if (s->depth != n)
        return;
    for (unsigned i = 0; i < n; i++)
        if (!span_is(&s->stack[i], paths[ph][i]))
            return;
    s->seen[ph] = true;
}

static bool scan_placeholder(struct scan *s, bool in_text)
{
    size_t len;
    int ph = ph_match(s->p, s->end, &len);

    if (ph < 0)
        return fail(s, "unknown placeholder (\"{{\" must start one of the known ones)");
    note_placeholder(s, ph, in_text);
    if (s->stamps > CNF_STAMP_SLOTS)
        return fail(s, "too many {{VERSION_STAMP}} placeholders");
    s->p += len;
    return true;
}

/* Character data up to the next '<' (or the end). */
static bool scan_text(struct scan *s)
{
    while (s->p < s->end && *s->p != '<') {
        if (s->depth == 0 && !is_space(*s->p))
            return fail(s, "text outside the root element");
        if (*s->p == '&') {
            if (!scan_reference(s))
                return false;
        } else if (s->tmpl && at(s, "{{")) {
            if (!scan_placeholder(s, true))
                return false;
        } else if (at(s, "]]>")) {
            return fail(s, "\"]]>\" in text");
        } else {
            s->p++;
        }
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
        if (s->tmpl && at(s, "{{"))
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
        if (s->tmpl && at(s, "{{"))
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
    struct span target;

    s->p += 2; /* "<?" */
    if (!scan_name(s, &target))
        return false;
    if (first && span_is(&target, "xml"))
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
        if (*s->p == '&') {
            if (!scan_reference(s))
                return false;
        } else if (s->tmpl && at(s, "{{")) {
            if (!scan_placeholder(s, false))
                return false;
        } else {
            s->p++;
        }
    }
    if (s->p >= s->end)
        return fail(s, "unterminated attribute value");
    s->p++;
    return true;
}

/* One attribute "name = value", unique on its element. */
static bool scan_attr(struct scan *s, struct span *names, unsigned *n_names)
{
    struct span name;

    if (!scan_name(s, &name))
        return false;
    if (span_is(&name, "xmlns") || (name.n > 6 && memcmp(name.p, "xmlns:", 6) == 0))
        return fail(s, "namespace declarations are not supported");
    for (unsigned i = 0; i < *n_names; i++)
        if (names[i].n == name.n && memcmp(names[i].p, name.p, name.n) == 0)
            return fail(s, "duplicate attribute");
    if (*n_names == CNF_ATTRS_MAX)
        return fail(s, "too many attributes on one element");
    names[(*n_names)++] = name;
    skip_space(s);
    if (s->p >= s->end || *s->p != '=')
        return fail(s, "expected '=' after an attribute name");
    s->p++;
    skip_space(s);
    return scan_attr_value(s);
}

static bool push_element(struct scan *s, const struct span *name)
{
    if (s->depth == 0 && s->root_done)
        return fail(s, "more than one root element");
    if (s->tmpl && s->depth == 0 && !span_is(name, "device"))
        return fail(s, "the root element must be <device>");
    if (s->depth == CNF_DEPTH_MAX)
        return fail(s, "elements nested too deeply");
    s->stack[s->depth++] = *name;
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
    struct span name, attrs[CNF_ATTRS_MAX];
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
    struct span name;

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
        size_t n = utf8_char(p, end);

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

int cnf_template_check(const char *text, size_t len, const char **why)
{
    static const struct {
        int ph;
        const char *why;
    } required[] = {
        {PH_LOAD, "no <loadInformation>{{LOAD}}</loadInformation> under <device>"},
        {PH_PFS, "no <peerFirmwareSharing>{{PFS}}</peerFirmwareSharing> in <vendorConfig>"},
        {PH_LOAD_SERVER, "no <loadServer>{{LOAD_SERVER}}</loadServer> in <vendorConfig>"},
        {PH_VERSION_STAMP, "no <versionStamp>{{VERSION_STAMP}}</versionStamp> under <device>"},
    };
    struct scan s = {.p = text, .end = text + len, .tmpl = true};
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (text == NULL || len == 0)
        return *why = "empty template", CNF_INVALID;
    if (len > CNF_TEMPLATE_MAX)
        return *why = "template larger than 64 KiB", CNF_INVALID;
    if (!scan_encoding(&s) || !scan_document(&s))
        return *why = s.why, CNF_INVALID;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!s.seen[required[i].ph])
            return *why = required[i].why, CNF_INVALID;
    return CNF_OK;
}

int cnf_xml_check(const char *text, size_t len, const char **why)
{
    struct scan s = {.p = text, .end = text + len, .tmpl = false};
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (text == NULL || len == 0)
        return *why = "empty document", CNF_INVALID;
    if (!scan_encoding(&s) || !scan_document(&s))
        return *why = s.why, CNF_INVALID;
    return CNF_OK;
}
