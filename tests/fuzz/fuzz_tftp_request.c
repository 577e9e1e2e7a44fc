/* fuzz_tftp_request.c: libFuzzer target for the TFTP codec, the name normaliser
 * and the session state machine fed with what a request negotiates. Checks
 * invariants and aborts on a breach; must not touch sockets, files or the clock. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resolve/resolver.h"
#include "server/tftp/tftp_packet.h"
#include "server/tftp/tftp_session.h"
#include "server/tftp/wire_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FUZZ_EVENTS_MAX 2048 /* enough windows of 64 to cross block 65535 */

static bool fuzz_options_equal(const struct tftp_options *a, const struct tftp_options *b)
{
    if (a->present != b->present)
        return false;
    if ((a->present & TFTP_OPT_BLKSIZE) && a->blksize != b->blksize)
        return false;
    if ((a->present & TFTP_OPT_TIMEOUT) && a->timeout != b->timeout)
        return false;
    if ((a->present & TFTP_OPT_TSIZE) && a->tsize != b->tsize)
        return false;
    if ((a->present & TFTP_OPT_WINDOWSIZE) && a->windowsize != b->windowsize)
        return false;
    return true;
}

/* Parsed options are always within the RFC ranges. */
static void fuzz_check_option_ranges(const struct tftp_options *o)
{
    FUZZ_CHECK((o->present & ~15u) == 0);
    if (o->present & TFTP_OPT_BLKSIZE)
        FUZZ_CHECK(o->blksize >= TFTP_BLKSIZE_MIN);
    if (o->present & TFTP_OPT_TIMEOUT)
        FUZZ_CHECK(o->timeout >= TFTP_TIMEOUT_MIN && o->timeout <= TFTP_TIMEOUT_MAX);
    if (o->present & TFTP_OPT_WINDOWSIZE)
        FUZZ_CHECK(o->windowsize >= TFTP_WINDOW_MIN && o->windowsize <= TFTP_WINDOW_MAX);
    if (o->present & TFTP_OPT_TSIZE)
        FUZZ_CHECK(o->tsize <= TFTP_TSIZE_MAX);
}

/* An OACK built from these options parses back to the same options. */
static void fuzz_check_oack_roundtrip(const struct tftp_options *o)
{
    uint8_t buf[TFTP_REQUEST_MAX];
    struct tftp_packet pkt;
    int len = tftp_packet_build_oack(buf, sizeof(buf), o);

    FUZZ_CHECK(len >= 2);
    FUZZ_CHECK(tftp_packet_parse(buf, (size_t)len, &pkt) == TFTP_PARSE_OK);
    FUZZ_CHECK(pkt.op == TFTP_OP_OACK);
    FUZZ_CHECK(fuzz_options_equal(&pkt.opts, o));
}

static void fuzz_check_packet(const uint8_t *data, size_t size)
{
    struct tftp_packet pkt;
    uint8_t buf[TFTP_ERRMSG_MAX + 8];
    int rc = tftp_packet_parse(data, size, &pkt);
    int len;

    if (rc != TFTP_PARSE_OK)
        return;
    switch (pkt.op) {
    case TFTP_OP_DATA:
        FUZZ_CHECK(pkt.data == data + TFTP_HEADER_LEN && pkt.data_len == size - TFTP_HEADER_LEN);
        FUZZ_CHECK(pkt.data_len <= TFTP_BLKSIZE_MAX);
        break;
    case TFTP_OP_ACK:
        FUZZ_CHECK(size >= TFTP_HEADER_LEN && pkt.block == ((data[2] << 8) | data[3]));
        break;
    case TFTP_OP_ERROR:
        FUZZ_CHECK(strlen(pkt.error_msg) < TFTP_ERRMSG_MAX);
        len = tftp_packet_build_error(buf, sizeof(buf), pkt.error_code, pkt.error_msg);
        FUZZ_CHECK(len == (int)(TFTP_HEADER_LEN + strlen(pkt.error_msg) + 1));
        break;
    case TFTP_OP_OACK:
        fuzz_check_option_ranges(&pkt.opts);
        fuzz_check_oack_roundtrip(&pkt.opts);
        break;
    default:
        FUZZ_CHECK(!"tftp_packet_parse accepted an opcode it must refuse");
    }
}

/* A name that normalises is clean, and normalising it again changes nothing. */
static void fuzz_check_normalize(const char *name)
{
    char out[RESOLVER_NAME_MAX + 1], again[RESOLVER_NAME_MAX + 1];
    size_t n;

    if (resolver_normalize(name, out, sizeof(out)) != RESOLVER_OK) {
        FUZZ_CHECK(out[0] == '\0');
        return;
    }
    n = strlen(out);
    FUZZ_CHECK(n > 0 && n <= RESOLVER_NAME_MAX);
    FUZZ_CHECK(out[0] != '/' && out[n - 1] != '/');
    FUZZ_CHECK(strchr(out, '\\') == NULL && strstr(out, "//") == NULL);
    FUZZ_CHECK(strcmp(out, "..") != 0 && strncmp(out, "../", 3) != 0);
    FUZZ_CHECK(strstr(out, "/../") == NULL && (n < 3 || strcmp(out + n - 3, "/..") != 0));
    FUZZ_CHECK(strcmp(out, ".") != 0 && strncmp(out, "./", 2) != 0 && strstr(out, "/./") == NULL);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    FUZZ_CHECK(resolver_normalize(out, again, sizeof(again)) == RESOLVER_OK);
    FUZZ_CHECK(strcmp(out, again) == 0);
}

/* Building the request again from what was parsed gives the same request. */
static void fuzz_check_request_roundtrip(const struct tftp_request *req, size_t size)
{
    uint8_t buf[TFTP_REQUEST_MAX];
    struct tftp_request again;
    int len =
        tftp_packet_build_request(buf, sizeof(buf), req->op, req->filename, req->mode, &req->opts);

    /* Numbers come back without leading zeros, unknown options and padding go:
     * never longer than what came in. */
    FUZZ_CHECK(len > 0 && (size_t)len <= size);
    FUZZ_CHECK(tftp_packet_parse_request(buf, (size_t)len, &again) == TFTP_PARSE_OK);
    FUZZ_CHECK(again.op == req->op && again.mode == req->mode);
    FUZZ_CHECK(again.filename_len == req->filename_len);
    FUZZ_CHECK(memcmp(again.filename, req->filename, req->filename_len) == 0);
    FUZZ_CHECK(fuzz_options_equal(&again.opts, &req->opts));
}

static void fuzz_check_request(const uint8_t *data, size_t size, const struct tftp_request *req)
{
    const uint8_t *name = (const uint8_t *)req->filename;

    FUZZ_CHECK(req->op == TFTP_OP_RRQ || req->op == TFTP_OP_WRQ);
    FUZZ_CHECK(req->mode == TFTP_MODE_OCTET || req->mode == TFTP_MODE_NETASCII);
    FUZZ_CHECK(name == data + 2 && req->filename_len > 0);
    FUZZ_CHECK(req->filename_len + 3 < size && name[req->filename_len] == '\0');
    FUZZ_CHECK(strlen(req->filename) == req->filename_len);
    fuzz_check_option_ranges(&req->opts);
    fuzz_check_request_roundtrip(req, size);
}

/* FNV-1a: spreads the input into the session's knobs. */
static uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * UINT64_C(1099511628211);
    return h;
}

static void fuzz_limits(uint64_t h, struct tftp_session_limits *lim)
{
    static const uint32_t blk_caps[] = {512, 1428, 1468, 8192, 65464, 70000};
    static const uint32_t win_caps[] = {1, 16, 64, 65535};

    memset(lim, 0, sizeof(*lim));
    lim->blksize_max = blk_caps[h % 6];
    lim->windowsize_max = win_caps[(h >> 8) % 4];
    lim->rto_initial_ms = 1000;
    lim->rto_min_ms = 200;
    lim->rto_max_ms = 8000;
    lim->retries_max = 5;
    lim->rollover_to_one = (h >> 16) & 1;
}

/* What the session answered: a subset of the ask, within the limits. */
static void fuzz_check_accepted(const struct tftp_session *s, const struct tftp_request *req,
                                const struct tftp_session_limits *lim, uint64_t size)
{
    const struct tftp_options *acc = tftp_session_accepted(s);
    const struct tftp_options *ask = &req->opts;

    FUZZ_CHECK((acc->present & ~ask->present) == 0);
    if (acc->present & TFTP_OPT_BLKSIZE) {
        FUZZ_CHECK(acc->blksize >= TFTP_BLKSIZE_MIN && acc->blksize <= TFTP_BLKSIZE_MAX);
        FUZZ_CHECK(acc->blksize <= ask->blksize);
        FUZZ_CHECK(acc->blksize <= lim->blksize_max || lim->blksize_max < TFTP_BLKSIZE_MIN);
    }
    if (ask->present & TFTP_OPT_TIMEOUT)
        FUZZ_CHECK((acc->present & TFTP_OPT_TIMEOUT) && acc->timeout == ask->timeout);
    if ((ask->present & TFTP_OPT_TSIZE) && req->mode == TFTP_MODE_OCTET)
        FUZZ_CHECK((acc->present & TFTP_OPT_TSIZE) && acc->tsize == size);
    if (req->mode == TFTP_MODE_NETASCII)
        FUZZ_CHECK((acc->present & TFTP_OPT_TSIZE) == 0);
    if (acc->present & TFTP_OPT_WINDOWSIZE) {
        FUZZ_CHECK(acc->windowsize >= 1 && acc->windowsize <= ask->windowsize);
        FUZZ_CHECK(acc->windowsize <= lim->windowsize_max);
    }
    if (acc->present != 0)
        fuzz_check_oack_roundtrip(acc);
}

/* The block size in use: the answered one, else RFC 1350's. */
static uint32_t fuzz_blksize(const struct tftp_session *s)
{
    const struct tftp_options *acc = tftp_session_accepted(s);

    return (acc->present & TFTP_OPT_BLKSIZE) ? acc->blksize : TFTP_BLKSIZE_DEFAULT;
}

/* The decision after an event: blocks that exist, at most a window of them. */
static void fuzz_check_out(const struct tftp_session *s, const struct tftp_session_out *out,
                           bool roll_to_one, uint64_t last_block)
{
    const struct tftp_options *acc = tftp_session_accepted(s);
    uint32_t blksize = fuzz_blksize(s);
    uint32_t window = (acc->present & TFTP_OPT_WINDOWSIZE) ? acc->windowsize : 1;

    FUZZ_CHECK(tftp_session_finished(s) == (tftp_session_deadline(s) == 0));
    FUZZ_CHECK(!(out->send_oack && out->send_count > 0));
    if (out->send_count == 0)
        return;
    FUZZ_CHECK(!tftp_session_finished(s));
    FUZZ_CHECK(out->send_first >= 1 && out->send_count <= window);
    FUZZ_CHECK(out->send_first + out->send_count - 1 <= last_block);
    for (uint64_t b = out->send_first; b < out->send_first + out->send_count; b++) {
        uint32_t len = tftp_session_block_len(s, b);

        FUZZ_CHECK(len <= blksize);
        FUZZ_CHECK(b == last_block ? len < blksize : len == blksize);
        FUZZ_CHECK(tftp_session_block_offset(s, b) == (b - 1) * blksize);
        if (roll_to_one && b > 65535)
            FUZZ_CHECK(tftp_session_wire_block(s, b) != 0);
        else
            FUZZ_CHECK(tftp_session_wire_block(s, b) == (uint16_t)b);
    }
}

/* Plays events chosen by the file name's bytes: ACKs of the window's end, of a
 * block inside it, of anything; duplicates; timeouts; an ERROR. */
static void fuzz_run_session(const struct tftp_request *req, uint64_t h)
{
    struct tftp_session_limits lim;
    struct tftp_session s;
    struct tftp_session_out out;
    const uint8_t *script = (const uint8_t *)req->filename;
    uint64_t now = 1000, size, first = 0, count = 0, last_block;
    uint16_t last_ack = 0;
    bool have_ack = false;

    fuzz_limits(h, &lim);
    /* Sizes up to 2 MiB, often an exact multiple of the block size. */
    size = (h >> 20) % (UINT64_C(2) << 20);
    if ((h >> 41) & 1)
        size -= size % ((req->opts.present & TFTP_OPT_BLKSIZE) ? req->opts.blksize : 512);
    tftp_session_start(&s, &lim, &req->opts, req->mode, size, now, &out);
    fuzz_check_accepted(&s, req, &lim, size);
    FUZZ_CHECK(out.send_oack == (tftp_session_accepted(&s)->present != 0));
    last_block = size / fuzz_blksize(&s) + 1;
    fuzz_check_out(&s, &out, lim.rollover_to_one, last_block);
    for (size_t i = 0; i < FUZZ_EVENTS_MAX && !tftp_session_finished(&s); i++) {
        uint8_t e = script[i % req->filename_len];
        uint16_t wire;

        if (out.send_count > 0) {
            first = out.send_first;
            count = out.send_count;
        }
        now += e % 7;
        switch (e & 7) {
        case 0:
        case 1:
        case 2: /* the end of the window */
            wire = count ? tftp_session_wire_block(&s, first + count - 1) : 0;
            break;
        case 3: /* inside the window */
            wire = count ? tftp_session_wire_block(&s, first + (e >> 3) % count) : 0;
            break;
        case 4: /* the same ACK again: never a send */
            if (!have_ack)
                continue;
            tftp_session_on_ack(&s, last_ack, now, &out);
            FUZZ_CHECK(out.send_count == 0 && !out.send_oack);
            fuzz_check_out(&s, &out, lim.rollover_to_one, last_block);
            continue;
        case 5: /* anything */
            wire = (uint16_t)((e << 8) | script[(i + 1) % req->filename_len]);
            break;
        case 6:
            if (tftp_session_deadline(&s) > now)
                now = tftp_session_deadline(&s);
            tftp_session_on_timeout(&s, now, &out);
            fuzz_check_out(&s, &out, lim.rollover_to_one, last_block);
            continue;
        default:
            if (e == 0xff) {
                tftp_session_on_error(&s);
                FUZZ_CHECK(tftp_session_finished(&s) &&
                           tftp_session_get_state(&s) == TFTP_SESSION_PEER_ERROR);
            }
            continue;
        }
        tftp_session_on_ack(&s, wire, now, &out);
        fuzz_check_out(&s, &out, lim.rollover_to_one, last_block);
        /* Right after an ACK, the same ACK again must do nothing. */
        last_ack = wire;
        have_ack = true;
    }
}

/* The listener's verdict agrees with the codec: an ERROR is ignored, a valid
 * RRQ read, a valid WRQ refused, anything else malformed, with an ERROR that
 * goes out whole. */
static void fuzz_check_verdict(const uint8_t *data, size_t size, int rc,
                               const struct tftp_request *parsed)
{
    struct tftp_request req;
    enum tftp_failure fail = TFTP_FAIL_NONE;
    enum tftp_request_verdict v = tftp_session_judge_request(data, size, false, &req, &fail);
    const char *msg = NULL;

    if (tftp_packet_opcode(data, size) == TFTP_OP_ERROR) {
        FUZZ_CHECK(v == TFTP_REQUEST_IGNORE);
        return;
    }
    if (rc == TFTP_PARSE_OK) {
        FUZZ_CHECK(v == (parsed->op == TFTP_OP_RRQ ? TFTP_REQUEST_READ : TFTP_REQUEST_REFUSED));
        FUZZ_CHECK(req.filename == parsed->filename);
    } else {
        FUZZ_CHECK(v == TFTP_REQUEST_MALFORMED);
    }
    if (v != TFTP_REQUEST_READ) {
        tftp_wire_error(fail, &msg);
        FUZZ_CHECK(fail != TFTP_FAIL_NONE && msg != NULL && strlen(msg) < TFTP_ERRMSG_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tftp_request req;
    const char *msg = NULL;
    uint16_t code;
    int rc;

    fuzz_check_packet(data, size);
    rc = tftp_packet_parse_request(data, size, &req);
    fuzz_check_verdict(data, size, rc, &req);
    if (rc != TFTP_PARSE_OK) {
        code = tftp_wire_error(tftp_failure_of_parse(rc), &msg);
        FUZZ_CHECK(code == TFTP_ERR_ILLEGAL_OP || code == TFTP_ERR_OPTION);
        FUZZ_CHECK(msg != NULL && msg[0] != '\0' && strlen(msg) < TFTP_ERRMSG_MAX);
        return 0;
    }
    fuzz_check_request(data, size, &req);
    fuzz_check_normalize(req.filename);
    fuzz_run_session(&req, fuzz_hash(data, size));
    return 0;
}
