/* test_phonesim.c: table tests for phonesim's pure parsers: the HTTP response
 * head and body framing, the config extractor, the model table and --mix, each
 * with truncated, oversized and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/bench/http_get.h"
#include "tests/bench/http_resp.h"
#include "tests/bench/phone_cnf.h"
#include "tests/bench/phone_model.h"

/* ---------- HTTP response head ---------- */

struct head_case {
    const char *in;
    int rc;
    unsigned status;
    int has_length; /* -1: do not care */
    uint64_t length;
    int chunked, close;
};

static const struct head_case head_cases[] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", HTTP_RESP_OK, 200, 1, 5, 0, 0},
    {"HTTP/1.0 200 OK\n\n", HTTP_RESP_OK, 200, 0, 0, 0, 0},
    {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", HTTP_RESP_OK, 404,
     1, 0, 0, 1},
    {"HTTP/1.1 200\r\ncontent-length:  7 \r\n\r\n", HTTP_RESP_OK, 200, 1, 7, 0, 0},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_RESP_OK, 200, 0, 0, 1, 0},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", HTTP_RESP_OK, 200, 0, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", HTTP_RESP_OK, 200, 1, 3,
     0, 0},
    {"HTTP/1.1 503 Busy\r\nRetry-After: 5\r\n\r\n", HTTP_RESP_OK, 503, 0, 0, 0, 0},
    /* truncated: no blank line yet */
    {"", HTTP_RESP_MORE, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK", HTTP_RESP_MORE, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\n", HTTP_RESP_MORE, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", HTTP_RESP_MORE, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r", HTTP_RESP_MORE, 0, -1, 0, 0, 0},
    /* malformed */
    {"HTTP/2 200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS, 0, -1, 0, 0, 0},
    {"HTTP/1.1 20 OK\r\n\r\n", HTTP_RESP_BAD_STATUS, 0, -1, 0, 0, 0},
    {"HTTP/1.1 2000 OK\r\n\r\n", HTTP_RESP_BAD_STATUS, 0, -1, 0, 0, 0},
    {"HTTP/1.1 099 OK\r\n\r\n", HTTP_RESP_BAD_STATUS, 0, -1, 0, 0, 0},
    {"http/1.1 200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_RESP_BAD_STATUS, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", HTTP_RESP_BAD_HEADER, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", HTTP_RESP_BAD_HEADER, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", HTTP_RESP_BAD_HEADER, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nX: a\x02z\r\n\r\n", HTTP_RESP_BAD_HEADER, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HTTP_RESP_BAD_LENGTH, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", HTTP_RESP_BAD_LENGTH, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", HTTP_RESP_BAD_LENGTH, 0, -1, 0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTP_RESP_BAD_LENGTH, 0, -1,
     0, 0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 281474976710656\r\n\r\n", HTTP_RESP_BAD_LENGTH, 0, -1, 0,
     0, 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", HTTP_RESP_BAD_LENGTH, 0,
     -1, 0, 0, 0},
};

static void test_head_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
        const struct head_case *c = &head_cases[i];
        struct http_resp r;
        size_t head_len = 0;
        int rc = http_resp_parse_head(c->in, strlen(c->in), &r, &head_len);

        if (rc != c->rc)
            fail_msg("case %zu (%s): rc %d, want %d", i, c->in, rc, c->rc);
        assert_non_null(http_resp_strerror(rc));
        if (rc != HTTP_RESP_OK)
            continue;
        assert_int_equal(r.status, c->status);
        if (c->has_length >= 0)
            assert_int_equal(r.has_length, c->has_length);
        assert_int_equal(r.length, c->length);
        assert_int_equal(r.chunked, c->chunked);
        assert_int_equal(r.close, c->close);
        assert_true(head_len <= strlen(c->in));
        assert_true(c->in[head_len - 1] == '\n');
    }
}

/* Every prefix of a complete head is "more", never an error or a success. */
static void test_head_every_prefix(void **state)
{
    static const char *full = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x\r\n\r\n";
    struct http_resp r;
    size_t head_len = 0;

    (void)state;
    for (size_t n = 0; n < strlen(full); n++)
        if (http_resp_parse_head(full, n, &r, &head_len) != HTTP_RESP_MORE)
            fail_msg("prefix of %zu bytes is not MORE", n);
    assert_int_equal(http_resp_parse_head(full, strlen(full), &r, &head_len), HTTP_RESP_OK);
    assert_int_equal(head_len, strlen(full));
}

/* No blank line within HTTP_RESP_HEAD_MAX: too big, whatever follows. */
static void test_head_oversized(void **state)
{
    size_t n = HTTP_RESP_HEAD_MAX + 100;
    char *buf = malloc(n);
    struct http_resp r;
    size_t head_len = 0;
    size_t off;

    (void)state;
    assert_non_null(buf);
    off = (size_t)snprintf(buf, n, "HTTP/1.1 200 OK\r\n");
    for (; off + 10 < n; off += 10)
        memcpy(buf + off, "X-Pad: aa\n", 10);
    memset(buf + off, 'a', n - off);
    assert_int_equal(http_resp_parse_head(buf, HTTP_RESP_HEAD_MAX - 1, &r, &head_len),
                     HTTP_RESP_MORE);
    assert_int_equal(http_resp_parse_head(buf, HTTP_RESP_HEAD_MAX, &r, &head_len),
                     HTTP_RESP_TOO_BIG);
    assert_int_equal(http_resp_parse_head(buf, n, &r, &head_len), HTTP_RESP_TOO_BIG);
    /* A status line longer than the limit by itself. */
    memset(buf, 'H', n);
    assert_int_equal(http_resp_parse_head(buf, n, &r, &head_len), HTTP_RESP_TOO_BIG);
    free(buf);
}

/* ---------- body framing ---------- */

struct body_case {
    int has_length;
    uint64_t length;
    size_t feeds[4]; /* 0 ends the list */
    size_t want_taken;
    int want_done;   /* after the feeds */
    int want_eof_ok; /* if the peer closed now */
};

static const struct body_case body_cases[] = {
    {1, 10, {4, 6}, 10, 1, 1},
    {1, 10, {4, 3}, 7, 0, 0}, /* truncated: a close now cuts it short */
    {1, 10, {15}, 10, 1, 1},  /* bytes past Content-Length are not the body */
    {1, 10, {9, 9}, 10, 1, 1},
    {1, 0, {0}, 0, 0, 1},          /* an empty body is whole at once */
    {0, 0, {100, 200}, 300, 0, 1}, /* close-delimited: whole at the close */
    {0, 0, {0}, 0, 0, 1},
};

static void test_body_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
        const struct body_case *c = &body_cases[i];
        struct http_resp r = {.status = 200, .has_length = c->has_length, .length = c->length};
        struct http_body b;
        size_t taken = 0;
        bool done = false;

        http_body_init(&b, &r);
        for (size_t j = 0; j < 4 && c->feeds[j] != 0; j++)
            taken += http_body_feed(&b, c->feeds[j], &done);
        if (taken != c->want_taken || done != c->want_done ||
            http_body_eof_ok(&b) != c->want_eof_ok)
            fail_msg("case %zu: taken %zu done %d eof_ok %d", i, taken, done, http_body_eof_ok(&b));
        assert_int_equal(b.received, taken);
    }
}

static void test_request(void **state)
{
    char buf[1024], name[300];

    (void)state;
    assert_true(
        http_get_build_request(buf, sizeof(buf), "SEP001B54000001.cnf.xml", "127.0.0.1:6970") > 0);
    assert_non_null(strstr(buf, "GET /SEP001B54000001.cnf.xml HTTP/1.1\r\n"));
    assert_non_null(strstr(buf, "Host: 127.0.0.1:6970\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n"));
    assert_true(http_get_build_request(buf, sizeof(buf), "a b/c?%", "h:1") > 0);
    assert_non_null(strstr(buf, "GET /a%20b%2Fc%3F%25 HTTP/1.1\r\n"));
    assert_int_equal(http_get_build_request(buf, 40, "SEP001B54000001.cnf.xml", "h:1"), -1);
    memset(name, 'a', 256);
    name[256] = '\0';
    assert_int_equal(http_get_build_request(buf, sizeof(buf), name, "h:1"), -1);
}

/* ---------- the config extractor ---------- */

struct cnf_case {
    const char *xml;
    const char *tag;
    int rc;
    const char *load;   /* NULL: no load element */
    const char *server; /* NULL: no loadServer element */
};

#define SEP_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<device>\n"

static const struct cnf_case cnf_cases[] = {
    {SEP_HEAD "<deviceProtocol>SIP</deviceProtocol>\n<vendorConfig>\n"
              "<peerFirmwareSharing>1</peerFirmwareSharing>\n<loadServer>10.20.0.5</loadServer>\n"
              "</vendorConfig>\n<loadInformation>SIP41.9-4-2SR3-1S</loadInformation>\n"
              "<inactiveLoadInformation></inactiveLoadInformation>\n</device>\n",
     "loadInformation", 0, "SIP41.9-4-2SR3-1S", "10.20.0.5"},
    {SEP_HEAD "<vendorConfig><loadServer></loadServer></vendorConfig>"
              "<loadInformation>  L1 \n</loadInformation></device>",
     "loadInformation", 0, "L1", ""},
    {SEP_HEAD "<vendorConfig><loadServer/></vendorConfig><loadInformation/></device>",
     "loadInformation", 0, "", ""},
    /* only a direct child of the root counts; nested or elsewhere is ignored */
    {SEP_HEAD "<x><loadInformation>NO</loadInformation><loadServer>no</loadServer></x>"
              "<loadServer>no</loadServer></device>",
     "loadInformation", 0, NULL, NULL},
    {SEP_HEAD "<!-- <loadInformation>NO</loadInformation> -->"
              "<loadInformation a=\"x>y\" b='1'>A&amp;B&#65;&#x42;</loadInformation></device>",
     "loadInformation", 0, "A&BAB", NULL},
    {SEP_HEAD "<loadInformation><![CDATA[C<D]]></loadInformation></device>", "loadInformation", 0,
     "C<D", NULL},
    {"<Default><callManagerGroup/>\n"
     "<loadInformation436 model=\"Cisco 7965\">SIP45.9-4-2SR3-1S</loadInformation436>\n"
     "<loadInformation30018 model=\"Cisco 7961\">SIP41.X</loadInformation30018></Default>",
     "loadInformation436", 0, "SIP45.9-4-2SR3-1S", NULL},
    {"<Default><loadInformation30018>SIP41.X</loadInformation30018></Default>",
     "loadInformation436", 0, NULL, NULL},
    /* truncated */
    {"", "loadInformation", -1, NULL, NULL},
    {SEP_HEAD, "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<loadInformation>SIP41", "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<loadInformation>SIP41</loadInformation>", "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<loadInformation>SIP41</loadInf", "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<loadInformation", "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<!-- open comment", "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<loadInformation><![CDATA[x", "loadInformation", -1, NULL, NULL},
    /* malformed or refused */
    {SEP_HEAD "<loadInformation>A</loadInformation><loadInformation>B</loadInformation></device>",
     "loadInformation", -1, NULL, NULL},
    {SEP_HEAD "<loadInformation>A<b/></loadInformation></device>", "loadInformation", -1, NULL,
     NULL},
    {SEP_HEAD "<loadInformation>A&nbsp;</loadInformation></device>", "loadInformation", -1, NULL,
     NULL},
    {SEP_HEAD "<loadInformation>A&#0;</loadInformation></device>", "loadInformation", -1, NULL,
     NULL},
    {SEP_HEAD "<loadInformation>A&#xe9;</loadInformation></device>", "loadInformation", -1, NULL,
     NULL},
    {SEP_HEAD "<loadInformation>A&amp</loadInformation></device>", "loadInformation", -1, NULL,
     NULL},
    {SEP_HEAD "<loadInformation>A\x01</loadInformation></device>", "loadInformation", -1, NULL,
     NULL},
    {SEP_HEAD "<a></b></device>", "loadInformation", -1, NULL, NULL},
    {"<!DOCTYPE x [<!ENTITY e \"boom\">]><device/>", "loadInformation", -1, NULL, NULL},
    {"<device/><device/>", "loadInformation", -1, NULL, NULL},
    {"junk<device/>", "loadInformation", -1, NULL, NULL},
    {"<device/>junk", "loadInformation", -1, NULL, NULL},
    {"< device/>", "loadInformation", -1, NULL, NULL},
};

static void test_cnf_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cnf_cases) / sizeof(cnf_cases[0]); i++) {
        const struct cnf_case *c = &cnf_cases[i];
        struct phone_cnf out;
        const char *why = NULL;
        int rc = phone_cnf_extract(c->xml, strlen(c->xml), c->tag, &out, &why);

        if (rc != c->rc)
            fail_msg("case %zu: rc %d (%s), want %d", i, rc, why ? why : "-", c->rc);
        if (rc != 0) {
            assert_non_null(why);
            assert_false(out.has_load);
            continue;
        }
        assert_null(why);
        assert_int_equal(out.has_load, c->load != NULL);
        if (c->load != NULL)
            assert_string_equal(out.load, c->load);
        assert_int_equal(out.has_load_server, c->server != NULL);
        if (c->server != NULL)
            assert_string_equal(out.load_server, c->server);
    }
}

/* Every prefix of a good config fails ("truncated"), none reads a value. */
static void test_cnf_every_prefix(void **state)
{
    const char *xml = cnf_cases[0].xml;
    struct phone_cnf out;
    const char *why;

    (void)state;
    for (size_t n = 0; n < strlen(xml) - 1; n++) {
        /* a prefix that ends right after the root's end tag is whole */
        if (phone_cnf_extract(xml, n, "loadInformation", &out, &why) == 0)
            fail_msg("prefix of %zu bytes accepted", n);
    }
}

static void test_cnf_limits(void **state)
{
    size_t n = PHONE_CNF_MAX + 1;
    char *big = malloc(n + 1);
    char value[400];
    struct phone_cnf out;
    const char *why = NULL;
    int len;

    (void)state;
    assert_non_null(big);
    /* over-size: refused before it is read */
    memset(big, ' ', n);
    memcpy(big, "<device>", 8);
    memcpy(big + n - 9, "</device>", 9);
    assert_int_equal(phone_cnf_extract(big, n, "loadInformation", &out, &why), -1);
    assert_non_null(strstr(why, "65536"));
    assert_int_equal(phone_cnf_extract(big, n - 1 - 9, "loadInformation", &out, &why), -1);
    memcpy(big + n - 10, "</device>", 9);
    assert_int_equal(phone_cnf_extract(big, n - 1, "loadInformation", &out, &why), 0);
    /* a value of 255 bytes is kept, 256 refused */
    memset(value, 'v', sizeof(value));
    len = snprintf(big, n, "<device><loadInformation>%.255s</loadInformation></device>", value);
    assert_int_equal(phone_cnf_extract(big, (size_t)len, "loadInformation", &out, &why), 0);
    assert_int_equal(strlen(out.load), 255);
    len = snprintf(big, n, "<device><loadInformation>%.256s</loadInformation></device>", value);
    assert_int_equal(phone_cnf_extract(big, (size_t)len, "loadInformation", &out, &why), -1);
    /* 16 levels deep is read, 17 refused */
    strcpy(big, "");
    for (int d = 0; d < 17; d++)
        strcat(big, "<a>");
    assert_int_equal(phone_cnf_extract(big, strlen(big), "loadInformation", &out, &why), -1);
    assert_non_null(strstr(why, "deep"));
    free(big);
}

/* ---------- the model table and --mix ---------- */

struct model_case {
    const char *line;
    int rc;
    uint32_t blksize, windowsize, timeout_ms;
    int tsize, http_first;
};

static const struct model_case model_cases[] = {
    {"7965 436 SIP 0 0 0 2000 5 0 60 30", 0, 0, 0, 2000, 0, 0},
    {"8845\t36224 SIP 1428 1 0 2000 5 1 60 30", 0, 1428, 0, 2000, 1, 1},
    {"x 1 SCCP 65464 1 65535 1 0 1 0 0", 0, 65464, 65535, 1, 1, 1},
    {"  pad  9  SIP  8  0  1  600000  1000  0  86400  86400  ", 0, 8, 1, 600000, 0, 0},
    /* truncated: fewer fields */
    {"", -1, 0, 0, 0, 0, 0},
    {"7965", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 0 2000 5 0 60", -1, 0, 0, 0, 0, 0},
    /* too many fields, bad values */
    {"7965 436 SIP 0 0 0 2000 5 0 60 30 9", -1, 0, 0, 0, 0, 0},
    {"7965 0 SIP 0 0 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 H323 0 0 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 7 0 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 65465 0 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 2 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 65536 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 0 0 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 0 2000 1001 0 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 0 2000 5 yes 60 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 0 2000 5 0 86401 30", -1, 0, 0, 0, 0, 0},
    {"7965 436 SIP 0 0 0 2000 5 0 60 -1", -1, 0, 0, 0, 0, 0},
    {"79/65 436 SIP 0 0 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
    {"a234567890123456789012345678901x 1 SIP 0 0 0 1 0 0 0 0", -1, 0, 0, 0, 0, 0},
    {"7965 4294967296 SIP 0 0 0 2000 5 0 60 30", -1, 0, 0, 0, 0, 0},
};

static void test_model_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(model_cases) / sizeof(model_cases[0]); i++) {
        const struct model_case *c = &model_cases[i];
        struct phone_model m;
        const char *why = NULL;
        int rc = phone_model_parse_line(c->line, strlen(c->line), &m, &why);

        if (rc != c->rc)
            fail_msg("case %zu (%s): rc %d (%s)", i, c->line, rc, why ? why : "-");
        if (rc != 0) {
            assert_non_null(why);
            continue;
        }
        assert_int_equal(m.blksize, c->blksize);
        assert_int_equal(m.windowsize, c->windowsize);
        assert_int_equal(m.timeout_ms, c->timeout_ms);
        assert_int_equal(m.tsize, c->tsize);
        assert_int_equal(m.http_first, c->http_first);
    }
}

static void test_models_file(void **state)
{
    static const char bad[] = "7965 436 SIP 0 0 0 1 0 0 0 0\nbad line\n";
    static const char text[] = "# a comment\n\n7965 436 SIP 1024 0 4 1500 3 0 10 5\r\n"
                               "new1 999 SCCP 0 0 0 1000 1 1 0 0";
    struct phone_models t;
    const struct phone_model *m;
    unsigned line = 0;
    const char *why = NULL;
    size_t n0;

    (void)state;
    phone_models_builtin(&t);
    n0 = t.n;
    m = phone_models_find(&t, "7940");
    assert_non_null(m);
    assert_int_equal(m->device_type, 8);
    assert_int_equal(m->blksize, 0); /* domain.md: a plain RRQ */
    assert_false(m->http_first);
    m = phone_models_find(&t, "8845");
    assert_non_null(m);
    assert_true(m->http_first);
    assert_int_equal(m->device_type, 36224);
    assert_int_equal(phone_models_parse(text, strlen(text), &t, &line, &why), 0);
    assert_int_equal(t.n, n0 + 1);
    m = phone_models_find(&t, "7965");
    assert_int_equal(m->blksize, 1024);
    assert_int_equal(m->windowsize, 4);
    assert_non_null(phone_models_find(&t, "new1"));
    /* an error leaves the table as it was and says where */
    phone_models_builtin(&t);
    assert_int_equal(phone_models_parse(bad, strlen(bad), &t, &line, &why), -1);
    assert_int_equal(line, 2);
    assert_int_equal(phone_models_find(&t, "7965")->timeout_ms, 2000);
    assert_int_equal(
        phone_models_parse("a 1 SIP 0 0 0 1 0 0 0 0\na 2 SIP 0 0 0 1 0 0 0 0", 47, &t, &line, &why),
        -1);
    assert_non_null(strstr(why, "twice"));
    assert_int_equal(phone_models_parse("a 1 SIP 0 0 0 1 0 0 0 0\0", 24, &t, &line, &why), -1);
    assert_int_equal(phone_models_parse("x", PHONE_MODEL_TEXT_MAX + 1, &t, &line, &why), -1);
}

struct mix_case {
    const char *in;
    int rc;
    size_t n;
    uint64_t total;
};

static const struct mix_case mix_cases[] = {
    {"7965:30,8845:10", 0, 2, 40},
    {"7965:1", 0, 1, 1},
    {"a:100000,b:100000", 0, 2, 200000},
    {"", -1, 0, 0},
    {"7965", -1, 0, 0},
    {"7965:", -1, 0, 0},
    {":5", -1, 0, 0},
    {"7965:0", -1, 0, 0},
    {"7965:100001", -1, 0, 0},
    {"7965:3,", -1, 0, 0},
    {"7965:3,,8845:1", -1, 0, 0},
    {"79 65:3", -1, 0, 0},
    {"7965:3x", -1, 0, 0},
    {"7965:-3", -1, 0, 0},
    {"a234567890123456789012345678901x:1", -1, 0, 0},
};

static void test_mix_table(void **state)
{
    struct phone_mix_entry out[PHONE_MIX_MAX];
    char many[PHONE_MIX_MAX * 8 + 16] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(mix_cases) / sizeof(mix_cases[0]); i++) {
        const struct mix_case *c = &mix_cases[i];
        size_t n = 0;
        uint64_t total = 0;
        const char *why = NULL;
        int rc = phone_mix_parse(c->in, out, &n, &total, &why);

        if (rc != c->rc)
            fail_msg("case %zu (%s): rc %d", i, c->in, rc);
        if (rc != 0) {
            assert_non_null(why);
            continue;
        }
        assert_int_equal(n, c->n);
        assert_int_equal(total, c->total);
    }
    {
        size_t n;
        uint64_t total;
        const char *why;

        assert_int_equal(phone_mix_parse("7965:30,8845:10", out, &n, &total, &why), 0);
        assert_string_equal(out[0].name, "7965");
        assert_int_equal(out[0].count, 30);
        assert_string_equal(out[1].name, "8845");
        assert_int_equal(out[1].count, 10);
    }
    for (int i = 0; i <= PHONE_MIX_MAX; i++)
        strcat(many, i ? ",m:1" : "m:1");
    {
        size_t n;
        uint64_t total;
        const char *why;

        assert_int_equal(phone_mix_parse(many, out, &n, &total, &why), -1);
        many[strlen(many) - 4] = '\0';
        assert_int_equal(phone_mix_parse(many, out, &n, &total, &why), 0);
        assert_int_equal(n, PHONE_MIX_MAX);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_table),       cmocka_unit_test(test_head_every_prefix),
        cmocka_unit_test(test_head_oversized),   cmocka_unit_test(test_body_table),
        cmocka_unit_test(test_request),          cmocka_unit_test(test_cnf_table),
        cmocka_unit_test(test_cnf_every_prefix), cmocka_unit_test(test_cnf_limits),
        cmocka_unit_test(test_model_table),      cmocka_unit_test(test_models_file),
        cmocka_unit_test(test_mix_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
