/* tftp_packet.c: parse and build TFTP packets, options included.
 * Pure functions of bytes: never touches a socket, a file or a global. */
#include "server/tftp/tftp_packet.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/numparse.h"

/* A read cursor over a packet; strings are NUL-terminated inside it. */
struct cursor {
    const uint8_t *p;
    const uint8_t *end;
};

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xff);
}

/* Takes the next NUL-terminated string; TFTP_PARSE_TRUNCATED without a NUL. */
static int cursor_take_string(struct cursor *c, const char **s, size_t *len)
{
    const uint8_t *nul = memchr(c->p, '\0', (size_t)(c->end - c->p));

    if (nul == NULL)
        return TFTP_PARSE_TRUNCATED;
    *s = (const char *)c->p;
    *len = (size_t)(nul - c->p);
    c->p = nul + 1;
    return TFTP_PARSE_OK;
}

static bool cursor_only_nuls(const struct cursor *c)
{
    for (const uint8_t *q = c->p; q < c->end; q++)
        if (*q != '\0')
            return false;
    return true;
}

struct option_def {
    const char *name;
    unsigned bit;
    uint64_t min;
    uint64_t max;
};

/* Ranges of RFC 2348 (blksize: a larger ask is answered with what we can do,
 * as RFC 2348 lets the server pick a smaller value), 2349 (timeout, tsize)
 * and 7440 (windowsize). */
static const struct option_def option_defs[] = {
    {"blksize", TFTP_OPT_BLKSIZE, TFTP_BLKSIZE_MIN, UINT32_MAX},
    {"timeout", TFTP_OPT_TIMEOUT, TFTP_TIMEOUT_MIN, TFTP_TIMEOUT_MAX},
    {"tsize", TFTP_OPT_TSIZE, 0, TFTP_TSIZE_MAX},
    {"windowsize", TFTP_OPT_WINDOWSIZE, TFTP_WINDOW_MIN, TFTP_WINDOW_MAX},
};

static const struct option_def *option_find(const char *name)
{
    for (size_t i = 0; i < sizeof(option_defs) / sizeof(option_defs[0]); i++)
        if (strcasecmp(name, option_defs[i].name) == 0)
            return &option_defs[i];
    return NULL;
}

static void options_store(struct tftp_options *o, unsigned bit, uint64_t v)
{
    o->present |= bit;
    switch (bit) {
    case TFTP_OPT_BLKSIZE:
        o->blksize = (uint32_t)v;
        break;
    case TFTP_OPT_TIMEOUT:
        o->timeout = (uint32_t)v;
        break;
    case TFTP_OPT_TSIZE:
        o->tsize = v;
        break;
    default:
        o->windowsize = (uint32_t)v;
        break;
    }
}

static int option_apply(struct tftp_options *o, const char *name, const char *value, bool request)
{
    const struct option_def *def = option_find(name);
    uint64_t v;

    if (def == NULL)
        return TFTP_PARSE_OK; /* RFC 2347: unknown options are ignored */
    /* RFC 2349: a request's tsize is "0". An empty one asks for nothing we can
     * read, so it is treated as absent (as RFC 2347 treats an option the server
     * does not take): the transfer runs, only without tsize, where refusing it
     * with ERROR 8 would fail a boot over an optional size query. */
    if (request && def->bit == TFTP_OPT_TSIZE && value[0] == '\0')
        return TFTP_PARSE_OK;
    if (o->present & def->bit)
        return TFTP_PARSE_DUP_OPTION;
    if (numparse_u64(value, def->min, def->max, &v) != 0) {
        /* In a request tsize only asks for the size (RFC 2349: the client
         * sends 0, the server answers), and atftp 0.8 sends "tsize enable":
         * any non-empty value asks. In an OACK it is the size, and must be a
         * number. */
        if (!request || def->bit != TFTP_OPT_TSIZE)
            return TFTP_PARSE_BAD_OPTION;
        v = 0;
    }
    options_store(o, def->bit, v);
    return TFTP_PARSE_OK;
}

/* Reads name/value pairs to the end. Trailing NUL padding is tolerated (some
 * boot ROMs pad requests); a name without its value is truncation. */
static int options_parse(struct cursor *c, struct tftp_options *o, bool request)
{
    const char *name, *value;
    size_t name_len, value_len;
    int rc;

    memset(o, 0, sizeof(*o));
    while (c->p < c->end) {
        if (cursor_only_nuls(c))
            break;
        rc = cursor_take_string(c, &name, &name_len);
        if (rc == TFTP_PARSE_OK)
            rc = cursor_take_string(c, &value, &value_len);
        if (rc == TFTP_PARSE_OK && name_len == 0)
            rc = TFTP_PARSE_BAD_OPTION;
        if (rc == TFTP_PARSE_OK)
            rc = option_apply(o, name, value, request);
        if (rc != TFTP_PARSE_OK)
            return rc;
    }
    return TFTP_PARSE_OK;
}

static int mode_parse(const char *mode, enum tftp_mode *out)
{
    if (strcasecmp(mode, "octet") == 0)
        *out = TFTP_MODE_OCTET;
    else if (strcasecmp(mode, "netascii") == 0)
        *out = TFTP_MODE_NETASCII;
    else
        return TFTP_PARSE_BAD_MODE; /* "mail" is obsolete (RFC 1350) */
    return TFTP_PARSE_OK;
}

int tftp_packet_parse_request(const uint8_t *buf, size_t len, struct tftp_request *req)
{
    struct cursor c = {NULL, NULL};
    const char *mode = NULL;
    size_t mode_len = 0;
    uint16_t op;
    int rc;

    memset(req, 0, sizeof(*req));
    if (len > TFTP_REQUEST_MAX)
        return TFTP_PARSE_TOO_LONG;
    if (len < 2)
        return TFTP_PARSE_TRUNCATED;
    c = (struct cursor){buf + 2, buf + len};
    op = get_u16(buf);
    if (op != TFTP_OP_RRQ && op != TFTP_OP_WRQ)
        return TFTP_PARSE_BAD_OPCODE;
    req->op = (enum tftp_opcode)op;
    rc = cursor_take_string(&c, &req->filename, &req->filename_len);
    if (rc == TFTP_PARSE_OK)
        rc = cursor_take_string(&c, &mode, &mode_len);
    if (rc == TFTP_PARSE_OK && req->filename_len == 0)
        rc = TFTP_PARSE_EMPTY_NAME;
    if (rc == TFTP_PARSE_OK)
        rc = mode_parse(mode, &req->mode);
    if (rc == TFTP_PARSE_OK)
        rc = options_parse(&c, &req->opts, true);
    return rc;
}

static int parse_error(const uint8_t *buf, size_t len, struct tftp_packet *pkt)
{
    size_t n = 0;

    if (len < 4)
        return TFTP_PARSE_TRUNCATED;
    pkt->error_code = get_u16(buf + 2);
    /* The message should end in NUL; keep what is there either way. */
    while (4 + n < len && buf[4 + n] != '\0' && n < TFTP_ERRMSG_MAX - 1) {
        pkt->error_msg[n] = (char)buf[4 + n];
        n++;
    }
    pkt->error_msg[n] = '\0';
    return TFTP_PARSE_OK;
}

int tftp_packet_parse(const uint8_t *buf, size_t len, struct tftp_packet *pkt)
{
    struct cursor c = {NULL, NULL};
    uint16_t op;

    memset(pkt, 0, sizeof(*pkt));
    if (len < 2)
        return TFTP_PARSE_TRUNCATED;
    c = (struct cursor){buf + 2, buf + len};
    op = get_u16(buf);
    pkt->op = (enum tftp_opcode)op;
    switch (op) {
    case TFTP_OP_DATA:
        if (len < TFTP_HEADER_LEN)
            return TFTP_PARSE_TRUNCATED;
        if (len > TFTP_DATAGRAM_MAX)
            return TFTP_PARSE_TOO_LONG;
        pkt->block = get_u16(buf + 2);
        pkt->data = buf + TFTP_HEADER_LEN;
        pkt->data_len = len - TFTP_HEADER_LEN;
        return TFTP_PARSE_OK;
    case TFTP_OP_ACK:
        /* Extra bytes after the block number are ignored, as most servers do. */
        if (len < TFTP_HEADER_LEN)
            return TFTP_PARSE_TRUNCATED;
        pkt->block = get_u16(buf + 2);
        return TFTP_PARSE_OK;
    case TFTP_OP_ERROR:
        return parse_error(buf, len, pkt);
    case TFTP_OP_OACK:
        if (len > TFTP_REQUEST_MAX)
            return TFTP_PARSE_TOO_LONG;
        return options_parse(&c, &pkt->opts, false);
    default:
        return TFTP_PARSE_BAD_OPCODE;
    }
}

/* A write cursor; overflow is sticky and reported once at the end. */
struct writer {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool overflow;
};

static void writer_bytes(struct writer *w, const void *src, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void writer_u16(struct writer *w, uint16_t v)
{
    uint8_t b[2];

    put_u16(b, v);
    writer_bytes(w, b, 2);
}

static void writer_string(struct writer *w, const char *s)
{
    writer_bytes(w, s, strlen(s) + 1);
}

static void writer_option(struct writer *w, const char *name, uint64_t value)
{
    char num[24];

    snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
    writer_string(w, name);
    writer_string(w, num);
}

static int writer_finish(const struct writer *w)
{
    return w->overflow ? TFTP_PARSE_NO_SPACE : (int)w->len;
}

static void writer_options(struct writer *w, const struct tftp_options *o)
{
    if (o->present & TFTP_OPT_BLKSIZE)
        writer_option(w, "blksize", o->blksize);
    if (o->present & TFTP_OPT_TIMEOUT)
        writer_option(w, "timeout", o->timeout);
    if (o->present & TFTP_OPT_TSIZE)
        writer_option(w, "tsize", o->tsize);
    if (o->present & TFTP_OPT_WINDOWSIZE)
        writer_option(w, "windowsize", o->windowsize);
}

int tftp_packet_build_request(uint8_t *buf, size_t cap, enum tftp_opcode op, const char *filename,
                              enum tftp_mode mode, const struct tftp_options *opts)
{
    struct writer w = {buf, cap, 0, false};

    writer_u16(&w, (uint16_t)op);
    writer_string(&w, filename);
    writer_string(&w, mode == TFTP_MODE_NETASCII ? "netascii" : "octet");
    if (opts != NULL)
        writer_options(&w, opts);
    if (w.len > TFTP_REQUEST_MAX)
        return TFTP_PARSE_NO_SPACE;
    return writer_finish(&w);
}

int tftp_packet_build_oack(uint8_t *buf, size_t cap, const struct tftp_options *opts)
{
    struct writer w = {buf, cap, 0, false};

    writer_u16(&w, TFTP_OP_OACK);
    writer_options(&w, opts);
    return writer_finish(&w);
}

int tftp_packet_build_error(uint8_t *buf, size_t cap, uint16_t code, const char *msg)
{
    struct writer w = {buf, cap, 0, false};
    size_t n = strnlen(msg, TFTP_ERRMSG_MAX - 1);

    writer_u16(&w, TFTP_OP_ERROR);
    writer_u16(&w, code);
    writer_bytes(&w, msg, n);
    writer_bytes(&w, "", 1);
    return writer_finish(&w);
}

int tftp_packet_build_ack(uint8_t *buf, size_t cap, uint16_t block)
{
    struct writer w = {buf, cap, 0, false};

    writer_u16(&w, TFTP_OP_ACK);
    writer_u16(&w, block);
    return writer_finish(&w);
}

void tftp_packet_data_header(uint8_t hdr[TFTP_HEADER_LEN], uint16_t block)
{
    put_u16(hdr, TFTP_OP_DATA);
    put_u16(hdr + 2, block);
}

uint16_t tftp_packet_opcode(const uint8_t *buf, size_t len)
{
    return len < 2 ? 0 : get_u16(buf);
}

size_t tftp_netascii_encode(const uint8_t *src, size_t len, uint8_t *dst)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\n') {
            dst[n++] = '\r';
            dst[n++] = '\n';
        } else if (src[i] == '\r') {
            dst[n++] = '\r';
            dst[n++] = '\0';
        } else {
            dst[n++] = src[i];
        }
    }
    return n;
}

uint64_t tftp_netascii_size(const uint8_t *src, size_t len)
{
    uint64_t n = len;

    for (size_t i = 0; i < len; i++)
        if (src[i] == '\n' || src[i] == '\r')
            n++;
    return n;
}
