/* cnf.c: the config file renderer (placeholders filled with escaped values,
 * a content-derived versionStamp) and the template rules (known placeholders
 * in their elements) on top of xmlcheck. Pure: no database, no files, no sockets. */
#include "server/cnf/cnf.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/grow.h"
#include "server/cnf/xmlcheck.h"

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
        n = entity != NULL ? 0 : xmlcheck_char_len(p, end);
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
    /* What the gate lets through: never "branch:NAME", never a branch that
     * does not hold the load (docs/FLEET.md). */
    vals.v[PH_LOAD_SERVER] = eff->load_server_gate.sends;
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

int cnf_render_mac(const struct settings_snapshot *s, const struct fleet_view *fleet, int64_t now,
                   const char *mac, const struct sockaddr *from, struct cnf_buf *out)
{
    return cnf_render_mac_named(s, fleet, now, mac, from, out, NULL);
}

int cnf_render_mac_named(const struct settings_snapshot *s, const struct fleet_view *fleet,
                         int64_t now, const char *mac, const struct sockaddr *from,
                         struct cnf_buf *out, char named[SETTINGS_VALUE_MAX])
{
    struct settings_effective eff;
    const char *tmpl;
    size_t len;
    int rc;

    if (s == NULL || mac == NULL)
        return CNF_INVALID;
    if (fleet_resolve(s, fleet, now, mac, from, &eff) != 0)
        return CNF_UNKNOWN;
    rc = template_for(&eff, &tmpl, &len);
    if (rc == CNF_OK)
        rc = cnf_render_device(tmpl, len, &eff, s->enterprise.cm_address, out);
    if (rc == CNF_OK && named != NULL)
        snprintf(named, SETTINGS_VALUE_MAX, "%s", eff.served);
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

/* One <loadInformationTYPE model="NAME"[ protocol="P"]>LOAD</...>. The element
 * name carries the device type, which is what a phone looks up; a model that
 * runs SIP and SCCP gets one element per protocol, told apart by a protocol
 * attribute (the phone of either firmware finds its type's element). */
static int render_default_model(const struct settings_model *m, const char *protocol,
                                const char *load, struct cnf_buf *out)
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
    if (rc == CNF_OK && protocol != NULL)
        rc = buf_puts(out, "\" protocol=\"");
    if (rc == CNF_OK && protocol != NULL)
        rc = buf_puts(out, protocol);
    if (rc == CNF_OK)
        rc = buf_puts(out, "\">");
    if (rc == CNF_OK)
        rc = cnf_buf_escape(out, load);
    if (rc == CNF_OK)
        rc = buf_puts(out, "</loadInformation");
    if (rc == CNF_OK)
        rc = buf_puts(out, type);
    if (rc == CNF_OK)
        rc = buf_puts(out, ">\n");
    return rc;
}

/* A model's elements: its own protocol's default, then (a model that runs
 * both) the other protocol's. A default whose load is not servable is left
 * out: the phone keeps the load it runs instead of starting an upgrade it
 * cannot finish. */
static int render_default_loads(const struct settings_snapshot *s, const struct settings_model *m,
                                struct cnf_buf *out)
{
    const char *other = strcmp(m->protocol, "SIP") == 0 ? "SCCP" : "SIP";
    int rc = CNF_OK;

    if (settings_load_state_of(s, m->default_load) == SETTINGS_LOAD_OK)
        rc = render_default_model(m, m->dual ? m->protocol : NULL, m->default_load, out);
    if (rc == CNF_OK && m->dual &&
        settings_load_state_of(s, m->default_load_other) == SETTINGS_LOAD_OK)
        rc = render_default_model(m, other, m->default_load_other, out);
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
    for (size_t i = 0; i < s->n_models && rc == CNF_OK; i++)
        rc = render_default_loads(s, &s->models[i], out);
    if (rc == CNF_OK)
        rc = buf_puts(out, "</Default>\n");
    return rc;
}

/* ---- the template rules (xmlcheck's hooks) ------------------------------- */

struct tmpl_scan {
    bool seen[PH_COUNT]; /* required placeholders found in their elements */
    unsigned stamps;
};

/* Notes where a placeholder stands: the required ones count only in their
 * element's text, directly under the root's path. */
static void note_placeholder(struct tmpl_scan *t, int ph, const struct xmlcheck_name *path,
                             unsigned depth, bool in_text)
{
    static const char *const paths[PH_COUNT][3] = {
        [PH_LOAD] = {"device", "loadInformation", NULL},
        [PH_PFS] = {"device", "vendorConfig", "peerFirmwareSharing"},
        [PH_LOAD_SERVER] = {"device", "vendorConfig", "loadServer"},
        [PH_VERSION_STAMP] = {"device", "versionStamp", NULL},
    };
    unsigned n = 0;

    if (ph == PH_VERSION_STAMP)
        t->stamps++;
    if (!in_text || paths[ph][0] == NULL)
        return;
    while (n < 3 && paths[ph][n] != NULL)
        n++;
    if (depth != n)
        return;
    for (unsigned i = 0; i < n; i++)
        if (!xmlcheck_name_is(&path[i], paths[ph][i]))
            return;
    t->seen[ph] = true;
}

static int tmpl_placeholder(void *arg, const char *p, size_t avail,
                            const struct xmlcheck_name *path, unsigned depth, bool in_text,
                            size_t *len, const char **why)
{
    struct tmpl_scan *t = arg;
    int ph = ph_match(p, p + avail, len);

    if (ph < 0)
        return *why = "unknown placeholder (\"{{\" must start one of the known ones)",
               XMLCHECK_INVALID;
    note_placeholder(t, ph, path, depth, in_text);
    if (t->stamps > CNF_STAMP_SLOTS)
        return *why = "too many {{VERSION_STAMP}} placeholders", XMLCHECK_INVALID;
    return XMLCHECK_OK;
}

static int tmpl_element(void *arg, const struct xmlcheck_name *path, unsigned depth,
                        const char **why)
{
    (void)arg;
    if (depth == 1 && !xmlcheck_name_is(&path[0], "device"))
        return *why = "the root element must be <device>", XMLCHECK_INVALID;
    return XMLCHECK_OK;
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
    struct tmpl_scan t = {.stamps = 0};
    const struct xmlcheck_hooks hooks = {tmpl_element, tmpl_placeholder, &t};
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (text == NULL || len == 0)
        return *why = "empty template", CNF_INVALID;
    if (len > CNF_TEMPLATE_MAX)
        return *why = "template larger than 64 KiB", CNF_INVALID;
    if (xmlcheck_document(text, len, &hooks, why) != XMLCHECK_OK)
        return CNF_INVALID;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!t.seen[required[i].ph])
            return *why = required[i].why, CNF_INVALID;
    return CNF_OK;
}
