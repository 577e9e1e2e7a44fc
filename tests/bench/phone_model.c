/* phone_model.c: phonesim's built-in model table, the --models line format and
 * the --mix list. Every built-in value is either from a source named in
 * tests/bench/README.md or marked ASSUMPTION here and there. Pure: no I/O. */
#include "tests/bench/phone_model.h"

#include <stdio.h>
#include <string.h>

#include "lib/numparse.h"

#define FIELDS    11
#define TOKEN_MAX 32

/* ASSUMPTION (all families): TFTP resend timeout 2000 ms and 5 resends. Cisco
 * does not publish its phones' TFTP timers; the nearest published figure is
 * Nortel's "a reply within 2 s" (domain.md, "Vendor timeouts"). */
#define T_MS    2000
#define RETRIES 5
/* ASSUMPTION: 30 s between a failed file and the next try of the download. */
#define BACKOFF 30
/* ASSUMPTION: 79xx/78xx/88xx reboot and start the new load in 60 s. The white
 * paper gives 8900/9900 a 1-2 minute outage while restarting: 90 s for those. */
#define REBOOT_OLD 60
#define REBOOT_89  90

/* 79xx: a plain RRQ, no options, 512-byte lock-step, no HTTP (domain.md: "A 7940
 * on CME sends a plain RRQ"). Device types from domain.md. */
#define OLD(name, type)                                                                            \
    {                                                                                              \
        name, type, "SIP", 0, false, 0, T_MS, RETRIES, false, REBOOT_OLD, BACKOFF                  \
    }
/* 78xx/88xx/89xx/99xx: HTTP on 6970 first (domain.md, "What a phone does at
 * boot"). ASSUMPTION: blksize 1428 and tsize on TFTP, no windowsize: the options
 * newer models send are not documented publicly. */
#define NEW(name, type, reboot)                                                                    \
    {                                                                                              \
        name, type, "SIP", 1428, true, 0, T_MS, RETRIES, true, reboot, BACKOFF                     \
    }

static const struct phone_model builtin[] = {
    OLD("7940", 8),
    OLD("7941", 115),
    OLD("7942", 434),
    OLD("7945", 435),
    OLD("7960", 7),
    OLD("7961", 30018),
    OLD("7962", 404),
    OLD("7965", 436),
    OLD("7970", 30006),
    OLD("7971", 119),
    OLD("7975", 437),
    NEW("7811", 36213, REBOOT_OLD),
    NEW("7821", 621, REBOOT_OLD),
    NEW("7841", 622, REBOOT_OLD),
    NEW("7861", 623, REBOOT_OLD),
    NEW("8811", 36217, REBOOT_OLD),
    NEW("8832", 36258, REBOOT_OLD),
    NEW("8841", 683, REBOOT_OLD),
    NEW("8845", 36224, REBOOT_OLD),
    NEW("8851", 684, REBOOT_OLD),
    NEW("8861", 685, REBOOT_OLD),
    NEW("8865", 36225, REBOOT_OLD),
    NEW("8941", 586, REBOOT_89),
    NEW("8945", 585, REBOOT_89),
    NEW("8961", 540, REBOOT_89),
    NEW("9951", 537, REBOOT_89),
    NEW("9971", 493, REBOOT_89),
};

void phone_models_builtin(struct phone_models *t)
{
    memset(t, 0, sizeof(*t));
    t->n = sizeof(builtin) / sizeof(builtin[0]);
    memcpy(t->m, builtin, sizeof(builtin));
}

/* Splits a line at spaces and tabs into at most max tokens; -1 when there are more. */
static int split(const char *line, size_t len, char tok[][TOKEN_MAX], size_t max, size_t *n)
{
    size_t i = 0;

    *n = 0;
    while (i < len) {
        size_t start, l;

        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= len)
            break;
        start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        l = i - start;
        if (*n >= max || l >= TOKEN_MAX)
            return -1;
        memcpy(tok[*n], line + start, l);
        tok[(*n)++][l] = '\0';
    }
    return 0;
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > PHONE_MODEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

/* A field in [min, max], or 0 when zero_ok (blksize 0, windowsize 0: "not asked"). */
static int field_u32(const char *tok, uint64_t min, uint64_t max, bool zero_ok, uint32_t *out)
{
    uint64_t v;

    if (numparse_u64(tok, 0, max, &v) != 0 || (v < min && !(zero_ok && v == 0)))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int field_bool(const char *tok, bool *out)
{
    if (strcmp(tok, "0") != 0 && strcmp(tok, "1") != 0)
        return -1;
    *out = tok[0] == '1';
    return 0;
}

static int fields_apply(char tok[][TOKEN_MAX], struct phone_model *m, const char **why)
{
    *why = "a bad device_type (1..4294967295)";
    if (field_u32(tok[1], 1, UINT32_MAX, false, &m->device_type) != 0)
        return -1;
    *why = "a bad protocol (SIP or SCCP)";
    if (strcmp(tok[2], "SIP") != 0 && strcmp(tok[2], "SCCP") != 0)
        return -1;
    snprintf(m->protocol, sizeof(m->protocol), "%s", tok[2]);
    *why = "a bad tftp_blksize (0, or 8..65464)";
    if (field_u32(tok[3], 8, 65464, true, &m->blksize) != 0)
        return -1;
    *why = "a bad tsize (0 or 1)";
    if (field_bool(tok[4], &m->tsize) != 0)
        return -1;
    *why = "a bad windowsize (0, or 1..65535)";
    if (field_u32(tok[5], 1, 65535, true, &m->windowsize) != 0)
        return -1;
    *why = "a bad timeout_ms (1..600000)";
    if (field_u32(tok[6], 1, 600000, false, &m->timeout_ms) != 0)
        return -1;
    *why = "a bad retries (0..1000)";
    if (field_u32(tok[7], 0, 1000, true, &m->retries) != 0)
        return -1;
    *why = "a bad http_first (0 or 1)";
    if (field_bool(tok[8], &m->http_first) != 0)
        return -1;
    *why = "a bad reboot_s (0..86400)";
    if (field_u32(tok[9], 0, PHONE_MODEL_SECONDS_MAX, true, &m->reboot_s) != 0)
        return -1;
    *why = "a bad restart_backoff_s (0..86400)";
    if (field_u32(tok[10], 0, PHONE_MODEL_SECONDS_MAX, true, &m->restart_backoff_s) != 0)
        return -1;
    *why = NULL;
    return 0;
}

int phone_model_parse_line(const char *line, size_t len, struct phone_model *out, const char **why)
{
    char tok[FIELDS][TOKEN_MAX];
    size_t n;

    memset(out, 0, sizeof(*out));
    if (len > PHONE_MODEL_LINE_MAX) {
        *why = "a line over 256 bytes";
        return -1;
    }
    if (split(line, len, tok, FIELDS, &n) != 0 || n != FIELDS) {
        *why = "not 11 fields (name device_type protocol tftp_blksize tsize windowsize "
               "timeout_ms retries http_first reboot_s restart_backoff_s)";
        return -1;
    }
    if (!name_valid(tok[0])) {
        *why = "a bad name (1..31 letters, digits, '-', '_', '.')";
        return -1;
    }
    snprintf(out->name, sizeof(out->name), "%s", tok[0]);
    return fields_apply(tok, out, why);
}

const struct phone_model *phone_models_find(const struct phone_models *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->m[i].name, name) == 0)
            return &t->m[i];
    return NULL;
}

/* Adds or replaces m; -1 when the table is full. */
static int models_put(struct phone_models *t, const struct phone_model *m)
{
    struct phone_model *old = (struct phone_model *)phone_models_find(t, m->name);

    if (old != NULL) {
        *old = *m;
        return 0;
    }
    if (t->n >= PHONE_MODELS_MAX)
        return -1;
    t->m[t->n++] = *m;
    return 0;
}

static bool line_is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#')
            return true;
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    }
    return true;
}

/* One line of a --models text into work; seen holds the names the text gave. */
static int models_line(const char *p, size_t n, struct phone_models *work,
                       struct phone_models *seen, const char **why)
{
    struct phone_model m;

    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (line_is_blank(p, n))
        return 0;
    if (phone_model_parse_line(p, n, &m, why) != 0)
        return -1;
    if (phone_models_find(seen, m.name) != NULL) {
        *why = "a model named twice";
        return -1;
    }
    if (models_put(seen, &m) != 0 || models_put(work, &m) != 0) {
        *why = "more than 128 models";
        return -1;
    }
    return 0;
}

int phone_models_parse(const char *text, size_t len, struct phone_models *t, unsigned *line,
                       const char **why)
{
    struct phone_models work, seen; /* ~9 KiB each */
    const char *p = text, *end = text + len;

    *line = 0;
    if (len > PHONE_MODEL_TEXT_MAX) {
        *why = "a models file over 64 KiB";
        return -1;
    }
    work = *t;
    memset(&seen, 0, sizeof(seen));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

        (*line)++;
        if (memchr(p, '\0', n) != NULL) {
            *why = "a NUL byte";
            return -1;
        }
        if (models_line(p, n, &work, &seen, why) != 0)
            return -1;
        p += n + (nl != NULL);
    }
    *t = work;
    *why = NULL;
    return 0;
}

/* One "NAME:COUNT" of a --mix list. */
static int mix_entry(const char *p, size_t n, struct phone_mix_entry *e, const char **why)
{
    const char *colon = memchr(p, ':', n);
    char num[16];
    size_t nl;
    uint64_t v;

    *why = "an entry that is not MODEL:COUNT";
    if (colon == NULL)
        return -1;
    nl = (size_t)(colon - p);
    if (nl == 0 || nl > PHONE_MODEL_NAME_MAX || n - nl - 1 == 0 || n - nl - 1 >= sizeof(num))
        return -1;
    memcpy(e->name, p, nl);
    e->name[nl] = '\0';
    memcpy(num, colon + 1, n - nl - 1);
    num[n - nl - 1] = '\0';
    *why = "a bad model name";
    if (!name_valid(e->name))
        return -1;
    *why = "a count out of range (1..100000)";
    if (numparse_u64(num, 1, PHONE_MIX_COUNT_MAX, &v) != 0)
        return -1;
    e->count = (uint32_t)v;
    *why = NULL;
    return 0;
}

int phone_mix_parse(const char *text, struct phone_mix_entry *out, size_t *n, uint64_t *total,
                    const char **why)
{
    const char *p = text;

    *n = 0;
    *total = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

        if (*n >= PHONE_MIX_MAX) {
            *why = "more than 64 entries";
            return -1;
        }
        if (mix_entry(p, len, &out[*n], why) != 0)
            return -1;
        *total += out[(*n)++].count;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}
