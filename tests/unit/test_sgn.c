/* test_sgn.c: table tests for sgn_parse(): headers are built here with a small
 * TLV writer (every tag, version, hash, key size; every error), then truncated
 * at every length into exactly-sized buffers. Must not depend on other modules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/firmware/sgn.h"

#define TW_CAP       4096
#define TW_PAYLOAD   64        /* bytes after the header in a built file */
#define SET(v)       ((v) + 1) /* option fields: 0 = the valid default */
#define TAG_BIT(t)   (1u << (t))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A byte buffer that TLVs are appended to. */
struct tw {
    uint8_t buf[TW_CAP];
    size_t len;
};

static void tw_byte(struct tw *w, uint8_t b)
{
    assert_true(w->len < TW_CAP);
    w->buf[w->len++] = b;
}

static void tw_tlv(struct tw *w, uint8_t tag, const void *value, size_t n)
{
    assert_true(n <= 0xffff && w->len + 3 + n <= TW_CAP);
    tw_byte(w, tag);
    tw_byte(w, (uint8_t)(n >> 8));
    tw_byte(w, (uint8_t)n);
    if (n > 0)
        memcpy(w->buf + w->len, value, n);
    w->len += n;
}

static void tw_u8(struct tw *w, uint8_t tag, uint8_t v)
{
    tw_tlv(w, tag, &v, 1);
}

static void tw_u16(struct tw *w, uint8_t tag, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    tw_tlv(w, tag, b, 2);
}

/* A text with its NUL, or without it when nul is false. */
static void tw_text(struct tw *w, uint8_t tag, const char *s, bool nul)
{
    tw_tlv(w, tag, s, strlen(s) + (nul ? 1 : 0));
}

/* Opens a container; tw_close patches its length to cover what follows. */
static size_t tw_open(struct tw *w, uint8_t tag)
{
    size_t at = w->len;

    tw_tlv(w, tag, NULL, 0);
    return at;
}

static void tw_close(struct tw *w, size_t at, int delta)
{
    size_t n = (size_t)((long)(w->len - at - 3) + delta);

    w->buf[at + 1] = (uint8_t)(n >> 8);
    w->buf[at + 2] = (uint8_t)n;
}

/* How to build one header. Zero in every field gives a valid header. */
struct hdr_opts {
    int minor;           /* SET(n): version 1.n */
    int major;           /* SET(n) */
    int hash;            /* SET(n): tag 8 value */
    int alg;             /* SET(n): tag 10 value */
    int key_index;       /* SET(n): tag 11 value; default 2 */
    int sig_len;         /* SET(n): tag 12 length; default the key size */
    int serial_len;      /* SET(n); default 8 */
    unsigned omit;       /* TAG_BIT() of tags left out (3, 7, 9 leave their children out too) */
    unsigned no_nul;     /* TAG_BIT() of texts written without their NUL */
    bool signer_version; /* tag 28 right after tag 2 */
    bool signer_version_late; /* tag 28 later on: an error */
    bool timestamp;           /* tag 15 */
    bool pad_inside;          /* a padding byte between fields too */
    int extra_pad;            /* padding bytes beyond the minimum, in steps of 4 */
    const char *subject, *issuer, *filename;
    int wrong_len_tag; /* a fixed-length field written with wrong_len bytes */
    int wrong_len;
    int dup_tag;          /* a field written twice */
    int unknown_tag;      /* SET(n): a field with an unknown tag */
    int signer_len_delta; /* added to the signer container's length */
    int header_len_delta; /* added to the header length field */
    int file_size_delta;  /* added to the file size given to the parser */
    bool reorder;         /* file name first, then signature info, then signer */
};

/* What the builder wrote, for checking a successful parse. */
struct built {
    struct tw w; /* the whole file: header and payload */
    size_t header_len;
    size_t sig_offset;
    uint64_t file_size;
};

static int opt(int v, int dflt)
{
    return v == 0 ? dflt : v - 1;
}

static bool omitted(const struct hdr_opts *o, uint8_t tag)
{
    return (o->omit & TAG_BIT(tag)) != 0;
}

/* A fixed-length field, unless the options ask for a wrong length. */
static void put_fixed(struct tw *w, const struct hdr_opts *o, uint8_t tag, const uint8_t *v,
                      size_t n)
{
    uint8_t z[8] = {0};

    if (omitted(o, tag))
        return;
    if (o->wrong_len_tag == tag)
        tw_tlv(w, tag, z, (size_t)o->wrong_len);
    else
        tw_tlv(w, tag, v, n);
}

static void put_text(struct tw *w, const struct hdr_opts *o, uint8_t tag, const char *s,
                     const char *dflt)
{
    if (!omitted(o, tag))
        tw_text(w, tag, s != NULL ? s : dflt, (o->no_nul & TAG_BIT(tag)) == 0);
}

static void put_signer(struct tw *w, const struct hdr_opts *o)
{
    uint8_t serial[80];
    size_t at;

    if (omitted(o, 3))
        return;
    for (size_t i = 0; i < sizeof(serial); i++)
        serial[i] = (uint8_t)(0x12 + i * 0x22);
    at = tw_open(w, 3);
    put_text(w, o, 4, o->subject, "CN=Test Vendor Signer;OU=Test;O=loadsd-tests");
    if (!omitted(o, 5))
        tw_tlv(w, 5, serial, (size_t)opt(o->serial_len, 8));
    put_text(w, o, 6, o->issuer, "CN=Test Vendor Signer;OU=Test;O=loadsd-tests");
    tw_close(w, at, o->signer_len_delta);
}

static void put_sig_info(struct tw *w, const struct hdr_opts *o)
{
    uint8_t hash = (uint8_t)opt(o->hash, 2), alg = (uint8_t)opt(o->alg, 0);
    uint8_t key = (uint8_t)opt(o->key_index, 2);
    size_t at, at9;

    if (omitted(o, 7))
        return;
    at = tw_open(w, 7);
    put_fixed(w, o, 8, &hash, 1);
    if (!omitted(o, 9)) {
        at9 = tw_open(w, 9);
        put_fixed(w, o, 10, &alg, 1);
        put_fixed(w, o, 11, &key, 1);
        tw_close(w, at9, 0);
    }
    tw_close(w, at, 0);
}

static void put_signature(struct tw *w, const struct hdr_opts *o, struct built *b)
{
    static const size_t key_sizes[] = {64, 128, 256, 512};
    size_t key = (size_t)opt(o->key_index, 2);
    size_t n = (size_t)opt(o->sig_len, (int)(key < 4 ? key_sizes[key] : 256));
    uint8_t sig[600];

    if (omitted(o, 12))
        return;
    for (size_t i = 0; i < n && i < sizeof(sig); i++)
        sig[i] = (uint8_t)(i * 7 + 1);
    b->sig_offset = w->len;
    tw_tlv(w, 12, sig, n);
}

static void put_tail(struct tw *w, const struct hdr_opts *o)
{
    uint8_t ts[4] = {0x5f, 0x00, 0x00, 0x01};

    if (o->timestamp)
        put_fixed(w, o, 15, ts, 4);
    if (o->signer_version_late)
        tw_u16(w, 28, 1);
    if (o->unknown_tag != 0)
        tw_u8(w, (uint8_t)(o->unknown_tag - 1), 0);
    if (o->dup_tag == 1)
        tw_u16(w, 1, 0x0100);
    else if (o->dup_tag == 2)
        tw_u16(w, 2, 0);
    else if (o->dup_tag == 3 || o->dup_tag == 7)
        tw_tlv(w, (uint8_t)o->dup_tag, NULL, 0);
    else if (o->dup_tag == 4 || o->dup_tag == 14)
        tw_text(w, (uint8_t)o->dup_tag, "again", true);
    else if (o->dup_tag == 8)
        tw_u8(w, 8, 2);
    else if (o->dup_tag == 15)
        tw_tlv(w, 15, "\0\0\0\0", 4);
}

static void put_body(struct tw *w, const struct hdr_opts *o, struct built *b)
{
    if (o->reorder) {
        put_text(w, o, 14, o->filename, "SIP41.9-4-2SR3-1S.loads");
        put_sig_info(w, o);
        put_signature(w, o, b);
        put_signer(w, o);
        return;
    }
    put_signer(w, o);
    put_sig_info(w, o);
    if (o->pad_inside)
        tw_byte(w, 13);
    put_signature(w, o, b);
    put_text(w, o, 14, o->filename, "SIP41.9-4-2SR3-1S.loads");
}

/* Builds a header from the options, then TW_PAYLOAD bytes of payload. */
static void build(const struct hdr_opts *o, struct built *b)
{
    struct tw *w = &b->w;
    unsigned major = (unsigned)opt(o->major, 1), minor = (unsigned)opt(o->minor, 0);
    long header_len;

    memset(b, 0, sizeof(*b));
    tw_u16(w, 1, (major << 8) | minor);
    tw_u16(w, 2, 0); /* patched below */
    if (o->signer_version)
        put_fixed(w, o, 28, (const uint8_t *)"\0\2", 2);
    put_body(w, o, b);
    put_tail(w, o);
    while (w->len % 4 != 0)
        tw_byte(w, 13);
    for (int i = 0; i < o->extra_pad * 4; i++)
        tw_byte(w, 13);
    b->header_len = w->len;
    header_len = (long)w->len + o->header_len_delta;
    w->buf[8] = (uint8_t)((unsigned long)header_len >> 8);
    w->buf[9] = (uint8_t)header_len;
    for (size_t i = 0; i < TW_PAYLOAD; i++)
        tw_byte(w, 0);
    b->file_size = (uint64_t)((long)w->len + o->file_size_delta);
}

struct sgn_case {
    const char *what;
    struct hdr_opts o;
    int rc;
    const char *why; /* a word the explanation must contain, when rc != 0 */
};

static const struct sgn_case sgn_cases[] = {
    {"plain 1.0", {0}, SGN_OK, NULL},
    {"version 1.1", {.minor = SET(1)}, SGN_OK, NULL},
    {"version 1.2", {.minor = SET(2)}, SGN_OK, NULL},
    {"version 2.0", {.major = SET(2)}, SGN_BAD_VALUE, "version"},
    {"sha1", {.hash = SET(1)}, SGN_OK, NULL},
    {"sha256", {.hash = SET(2)}, SGN_OK, NULL},
    {"sha512", {.hash = SET(3)}, SGN_OK, NULL},
    {"hash 0", {.hash = SET(0)}, SGN_BAD_VALUE, "hash"},
    {"hash 4", {.hash = SET(4)}, SGN_BAD_VALUE, "hash"},
    {"key 64", {.key_index = SET(0)}, SGN_OK, NULL},
    {"key 128", {.key_index = SET(1)}, SGN_OK, NULL},
    {"key 256", {.key_index = SET(2)}, SGN_OK, NULL},
    {"key 512", {.key_index = SET(3)}, SGN_OK, NULL},
    {"key index 4", {.key_index = SET(4), .sig_len = SET(256)}, SGN_BAD_VALUE, "key size"},
    {"algorithm 1", {.alg = SET(1)}, SGN_BAD_VALUE, "algorithm"},
    {"signature one short", {.sig_len = SET(255)}, SGN_BAD_LENGTH, "signature length"},
    {"signature one long", {.sig_len = SET(257)}, SGN_BAD_LENGTH, "signature length"},
    {"signature for 512 with key 256", {.sig_len = SET(512)}, SGN_BAD_LENGTH, "key size"},
    {"signer version", {.signer_version = true}, SGN_OK, NULL},
    {"signer version late", {.signer_version_late = true}, SGN_BAD_TAG, "signer version"},
    {"timestamp", {.timestamp = true}, SGN_OK, NULL},
    {"everything", {.signer_version = true, .timestamp = true, .pad_inside = true}, SGN_OK, NULL},
    {"padding inside", {.pad_inside = true}, SGN_OK, NULL},
    {"more padding", {.extra_pad = 2}, SGN_OK, NULL},
    {"reordered fields", {.reorder = true, .timestamp = true}, SGN_OK, NULL},
    {"no serial", {.omit = TAG_BIT(5)}, SGN_OK, NULL},
    {"empty serial", {.serial_len = SET(0)}, SGN_OK, NULL},
    {"serial 64", {.serial_len = SET(64)}, SGN_OK, NULL},
    {"serial 65", {.serial_len = SET(65)}, SGN_BAD_LENGTH, "serial"},
    {"no issuer", {.omit = TAG_BIT(6)}, SGN_OK, NULL},
    {"missing subject", {.omit = TAG_BIT(4)}, SGN_MISSING, "subject"},
    {"missing signer", {.omit = TAG_BIT(3)}, SGN_MISSING, "subject"},
    {"missing hash", {.omit = TAG_BIT(8)}, SGN_MISSING, "hash"},
    {"missing algorithm", {.omit = TAG_BIT(10)}, SGN_MISSING, "algorithm"},
    {"missing key size", {.omit = TAG_BIT(11)}, SGN_MISSING, "key size"},
    {"missing algorithm container", {.omit = TAG_BIT(9)}, SGN_MISSING, "algorithm"},
    {"missing signature info", {.omit = TAG_BIT(7)}, SGN_MISSING, "hash"},
    {"missing signature", {.omit = TAG_BIT(12)}, SGN_MISSING, "signature"},
    {"missing file name", {.omit = TAG_BIT(14)}, SGN_MISSING, "file name"},
    {"subject without NUL", {.no_nul = TAG_BIT(4)}, SGN_BAD_VALUE, "subject is not NUL"},
    {"issuer without NUL", {.no_nul = TAG_BIT(6)}, SGN_BAD_VALUE, "issuer name is not NUL"},
    {"file name without NUL", {.no_nul = TAG_BIT(14)}, SGN_BAD_VALUE, "file name is not NUL"},
    {"empty file name", {.filename = ""}, SGN_BAD_VALUE, "file name"},
    {"hash length 2", {.wrong_len_tag = 8, .wrong_len = 2}, SGN_BAD_LENGTH, "hash"},
    {"hash length 0", {.wrong_len_tag = 8, .wrong_len = 0}, SGN_BAD_LENGTH, "hash"},
    {"algorithm length 2", {.wrong_len_tag = 10, .wrong_len = 2}, SGN_BAD_LENGTH, "algorithm"},
    {"key size length 0", {.wrong_len_tag = 11, .wrong_len = 0}, SGN_BAD_LENGTH, "key size"},
    {"timestamp length 3",
     {.timestamp = true, .wrong_len_tag = 15, .wrong_len = 3},
     SGN_BAD_LENGTH,
     "timestamp"},
    {"signer version length 3",
     {.signer_version = true, .wrong_len_tag = 28, .wrong_len = 3},
     SGN_BAD_LENGTH,
     "signer version"},
    {"unknown tag 0", {.unknown_tag = SET(0)}, SGN_BAD_TAG, "unknown"},
    {"unknown tag 16", {.unknown_tag = SET(16)}, SGN_BAD_TAG, "unknown"},
    {"unknown tag 27", {.unknown_tag = SET(27)}, SGN_BAD_TAG, "unknown"},
    {"unknown tag 29", {.unknown_tag = SET(29)}, SGN_BAD_TAG, "unknown"},
    {"unknown tag 255", {.unknown_tag = SET(255)}, SGN_BAD_TAG, "unknown"},
    {"version twice", {.dup_tag = 1}, SGN_BAD_VALUE, "twice"},
    {"header length twice", {.dup_tag = 2}, SGN_BAD_VALUE, "twice"},
    {"signer twice", {.dup_tag = 3}, SGN_BAD_VALUE, "twice"},
    {"subject twice", {.dup_tag = 4}, SGN_BAD_VALUE, "twice"},
    {"signature info twice", {.dup_tag = 7}, SGN_BAD_VALUE, "twice"},
    {"hash twice", {.dup_tag = 8}, SGN_BAD_VALUE, "twice"},
    {"file name twice", {.dup_tag = 14}, SGN_BAD_VALUE, "twice"},
    {"timestamp twice", {.timestamp = true, .dup_tag = 15}, SGN_BAD_VALUE, "twice"},
    {"signer children overrun it", {.signer_len_delta = -1}, SGN_BAD_LENGTH, "container"},
    {"signer children overrun by a lot", {.signer_len_delta = -20}, SGN_BAD_LENGTH, "container"},
    {"signer container covers part of the next field",
     {.signer_len_delta = 1},
     SGN_BAD_LENGTH,
     "container"},
    {"signer container past the header",
     {.signer_len_delta = 2000},
     SGN_BAD_LENGTH,
     "header length"},
    {"header length 4 short", {.header_len_delta = -4}, SGN_BAD_LENGTH, "header length"},
    {"header length 4 long", {.header_len_delta = 4}, SGN_BAD_TAG, "unknown"},
    {"header length not a multiple of 4", {.header_len_delta = 1}, SGN_BAD_LENGTH, "multiple"},
    {"header length past the file",
     {.file_size_delta = -(TW_PAYLOAD + 1)},
     SGN_TRUNCATED,
     "end of the file"},
    {"header length equal to the file", {.file_size_delta = -TW_PAYLOAD}, SGN_OK, NULL},
};

static void check_ok(const struct sgn_case *t, const struct built *b, const struct sgn_header *h)
{
    static const uint32_t key_sizes[] = {64, 128, 256, 512};
    const struct hdr_opts *o = &t->o;

    assert_int_equal(h->version_major, 1);
    assert_int_equal(h->version_minor, opt(o->minor, 0));
    assert_int_equal(h->header_len, b->header_len);
    assert_int_equal(h->hash, opt(o->hash, 2));
    assert_int_equal(h->algorithm, 0);
    assert_int_equal(h->key_bytes, key_sizes[opt(o->key_index, 2)]);
    assert_int_equal(h->sig_offset, b->sig_offset);
    assert_int_equal(h->sig_len, h->key_bytes);
    assert_int_equal(b->w.buf[h->sig_offset], 12);
    assert_string_equal(h->filename, o->filename ? o->filename : "SIP41.9-4-2SR3-1S.loads");
    assert_string_equal(h->subject, "CN=Test Vendor Signer;OU=Test;O=loadsd-tests");
    assert_string_equal(h->issuer, omitted(o, 6) ? "" : h->subject);
    assert_int_equal(h->serial_len, omitted(o, 5) ? 0 : opt(o->serial_len, 8));
    if (h->serial_len > 0)
        assert_int_equal(h->serial[0], 0x12);
    assert_int_equal(h->has_signer_version, o->signer_version);
    if (o->signer_version)
        assert_int_equal(h->signer_version, 2);
    assert_int_equal(h->has_timestamp, o->timestamp);
    if (o->timestamp)
        assert_int_equal(h->timestamp, 0x5f000001u);
}

static void test_sgn_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(sgn_cases); i++) {
        const struct sgn_case *t = &sgn_cases[i];
        struct built b;
        struct sgn_header h;
        const char *why = "unset";
        int rc;

        print_message("case %zu: %s\n", i, t->what);
        build(&t->o, &b);
        rc = sgn_parse(b.w.buf, b.w.len, b.file_size, &h, &why);
        if (rc != t->rc)
            print_message("  got %d (%s)\n", rc, why ? why : "-");
        assert_int_equal(rc, t->rc);
        if (rc == SGN_OK) {
            assert_null(why);
            check_ok(t, &b, &h);
        } else {
            assert_non_null(why);
            assert_non_null(strstr(why, t->why));
        }
    }
}

/* Long texts: 255 characters fit with their NUL, 256 do not. */
static void test_sgn_text_limits(void **state)
{
    char text[SGN_TEXT_MAX + 2];
    struct built b;
    struct sgn_header h;
    const char *why = NULL;

    (void)state;
    memset(text, 'a', sizeof(text));
    text[SGN_TEXT_MAX - 1] = '\0';
    build(&(struct hdr_opts){.filename = text, .subject = text}, &b);
    assert_int_equal(sgn_parse(b.w.buf, b.w.len, b.file_size, &h, &why), SGN_OK);
    assert_int_equal(strlen(h.filename), SGN_TEXT_MAX - 1);
    assert_int_equal(strlen(h.subject), SGN_TEXT_MAX - 1);
    text[SGN_TEXT_MAX - 1] = 'a';
    text[SGN_TEXT_MAX] = '\0';
    build(&(struct hdr_opts){.filename = text}, &b);
    assert_int_equal(sgn_parse(b.w.buf, b.w.len, b.file_size, &h, &why), SGN_BAD_VALUE);
    assert_non_null(strstr(why, "file name too long"));
    build(&(struct hdr_opts){.issuer = text}, &b);
    assert_int_equal(sgn_parse(b.w.buf, b.w.len, b.file_size, &h, &why), SGN_BAD_VALUE);
    assert_non_null(strstr(why, "issuer"));
}

/* Bytes after the NUL of a text are allowed and ignored. */
static void test_sgn_text_after_nul(void **state)
{
    struct tw w = {.len = 0};
    struct sgn_header h;
    const char *why = NULL;
    uint8_t sig[64] = {0};
    size_t at, at9;

    (void)state;
    tw_u16(&w, 1, 0x0102);
    tw_u16(&w, 2, 0);
    at = tw_open(&w, 3);
    tw_tlv(&w, 4, "CN=x\0junk", 9);
    tw_close(&w, at, 0);
    at = tw_open(&w, 7);
    tw_u8(&w, 8, 1);
    at9 = tw_open(&w, 9);
    tw_u8(&w, 11, 0); /* children in any order */
    tw_u8(&w, 10, 0);
    tw_close(&w, at9, 0);
    tw_close(&w, at, 0);
    tw_tlv(&w, 12, sig, sizeof(sig));
    tw_tlv(&w, 14, "a.sbn\0\0\0", 8);
    while (w.len % 4)
        tw_byte(&w, 13);
    w.buf[9] = (uint8_t)w.len;
    assert_int_equal(sgn_parse(w.buf, w.len, w.len, &h, &why), SGN_OK);
    assert_string_equal(h.subject, "CN=x");
    assert_string_equal(h.filename, "a.sbn");
    assert_int_equal(h.version_minor, 2);
    assert_int_equal(h.key_bytes, 64);
}

/* Headers that are not headers, and header lengths below the fixed part. */
static void test_sgn_not_sgn(void **state)
{
    static const struct {
        uint8_t bytes[12];
        size_t len;
        int rc;
    } cases[] = {
        {{0}, 0, SGN_TRUNCATED},
        {{1}, 1, SGN_TRUNCATED},
        {{1, 0, 2, 1, 0, 2, 0, 2, 0}, 9, SGN_TRUNCATED},
        {{2, 0, 2, 1, 0, 2, 0, 2, 0, 12}, 10, SGN_NOT_SGN},
        {{2}, 1, SGN_NOT_SGN},
        {{1, 0, 3, 1, 0, 2, 0, 2, 0, 12}, 10, SGN_NOT_SGN},
        {{1, 0, 2, 1, 0, 3, 0, 2, 0, 12}, 10, SGN_NOT_SGN},
        {{1, 0, 2, 1, 0, 2, 0, 4, 0, 12}, 10, SGN_NOT_SGN},
        {{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}, 10, SGN_NOT_SGN},
        {{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0}, 10, SGN_NOT_SGN},
        {{1, 0, 2, 1, 0, 2, 0, 2, 0, 0, 0, 0}, 12, SGN_BAD_LENGTH},
        {{1, 0, 2, 1, 0, 2, 0, 2, 0, 8, 0, 0}, 12, SGN_BAD_LENGTH},
        {{1, 0, 2, 1, 0, 2, 0, 2, 0, 12, 13, 13}, 12, SGN_MISSING},
        {{1, 0, 2, 1, 0, 2, 0, 2, 0, 12, 3, 0}, 12, SGN_BAD_LENGTH},
    };
    struct sgn_header h;
    const char *why = NULL;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case %zu\n", i);
        assert_int_equal(sgn_parse(cases[i].bytes, cases[i].len, 1000, &h, &why), cases[i].rc);
        assert_non_null(why);
    }
    assert_int_equal(sgn_parse(NULL, 0, 0, &h, &why), SGN_NOT_SGN);
    assert_int_equal(sgn_parse(cases[12].bytes, 12, 12, &h, NULL), SGN_MISSING);
}

static void test_sgn_probe(void **state)
{
    struct built b;

    (void)state;
    build(&(struct hdr_opts){0}, &b);
    assert_true(sgn_probe(b.w.buf, b.w.len));
    assert_true(sgn_probe(b.w.buf, 8));
    assert_false(sgn_probe(b.w.buf, 7));
    assert_false(sgn_probe(NULL, 8));
    b.w.buf[5] = 3;
    assert_false(sgn_probe(b.w.buf, b.w.len));
    assert_false(sgn_probe((const uint8_t *)"PK\3\4\0\0\0\0\0\0", 10));
    assert_string_equal(sgn_hash_name(SGN_HASH_SHA1), "sha1");
    assert_string_equal(sgn_hash_name(SGN_HASH_SHA256), "sha256");
    assert_string_equal(sgn_hash_name(SGN_HASH_SHA512), "sha512");
    assert_string_equal(sgn_hash_name((enum sgn_hash)9), "unknown");
}

/* Parses len bytes from an exactly-sized heap copy, so ASan sees overreads. */
static int parse_copy(const uint8_t *src, size_t len, uint64_t file_size, struct sgn_header *h,
                      const char **why)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, src, len);
    rc = sgn_parse(copy, len, file_size, h, why);
    free(copy);
    return rc;
}

static void test_sgn_truncation(void **state)
{
    static const struct hdr_opts shapes[] = {
        {.signer_version = true, .timestamp = true, .pad_inside = true},
        {.reorder = true, .key_index = SET(0)},
        {.key_index = SET(3), .hash = SET(3)},
    };

    (void)state;
    for (size_t s = 0; s < ARRAY_LEN(shapes); s++) {
        struct built b;
        struct sgn_header h;
        const char *why = NULL;

        build(&shapes[s], &b);
        for (size_t n = 0; n <= b.w.len; n++) {
            int rc = parse_copy(b.w.buf, n, b.w.len, &h, &why);

            if (n < b.header_len) {
                assert_int_equal(rc, SGN_TRUNCATED);
                assert_non_null(why);
                /* the file itself ends there */
                assert_int_equal(parse_copy(b.w.buf, n, n, &h, &why), SGN_TRUNCATED);
            } else {
                assert_int_equal(rc, SGN_OK);
                assert_int_equal(h.header_len, b.header_len);
            }
        }
    }
}

/* Every byte of a valid header replaced by a few values: never a crash, and
 * an accepted header always stays inside itself. */
static void test_sgn_mutations(void **state)
{
    static const uint8_t values[] = {0, 1, 2, 3, 12, 13, 14, 0x7f, 0x80, 0xff};
    struct built b;

    (void)state;
    build(&(struct hdr_opts){.signer_version = true, .timestamp = true, .key_index = SET(0)}, &b);
    for (size_t i = 0; i < b.header_len; i++) {
        for (size_t v = 0; v < ARRAY_LEN(values); v++) {
            uint8_t saved = b.w.buf[i];
            struct sgn_header h;
            const char *why = NULL;
            int rc;

            b.w.buf[i] = values[v];
            rc = parse_copy(b.w.buf, b.w.len, b.w.len, &h, &why);
            b.w.buf[i] = saved;
            if (rc != SGN_OK) {
                assert_true(rc >= SGN_MISSING && rc < 0);
                assert_non_null(why);
                continue;
            }
            assert_true(h.header_len <= b.w.len && h.header_len % 4 == 0);
            assert_true(h.sig_offset + SGN_SIG_TLV_LEN + h.sig_len <= h.header_len);
            assert_true(h.sig_len == h.key_bytes);
            assert_true(strlen(h.filename) < SGN_TEXT_MAX && h.filename[0] != '\0');
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgn_table),          cmocka_unit_test(test_sgn_text_limits),
        cmocka_unit_test(test_sgn_text_after_nul), cmocka_unit_test(test_sgn_not_sgn),
        cmocka_unit_test(test_sgn_probe),          cmocka_unit_test(test_sgn_truncation),
        cmocka_unit_test(test_sgn_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
