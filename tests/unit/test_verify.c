/* test_verify.c: verify.c against keys, certificates, signed headers and CMS
 * signatures made here with the OpenSSL API (no shelling out, no fixtures).
 * Uses only struct sgn_header from sgn.h, filled by hand: never sgn_parse(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "server/firmware/verify.h"
#include "tests/unit/testdir.h"

#define BIG_PAYLOAD (5 * 512 * 1024) /* 2.5 MiB: three read chunks */

enum ext_kind { EXT_NONE, EXT_REQ_X509, EXT_CODESIGN };

struct pki {
    EVP_PKEY *key;
    X509 *cert;
    char *pem;
    size_t pem_len;
};

static const uint8_t signer_serial[] = {0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81};
static const uint8_t other_serial[] = {0x88, 0x77, 0x66, 0x55};

static int64_t cert_not_before, cert_not_after;
static struct pki signer;       /* RSA 2048, CN=Test Vendor Signer, like `openssl req -x509` */
static struct pki same_subject; /* same subject, another key and serial */
static struct pki other;        /* another signer altogether */
static struct pki codesign;     /* keyUsage digitalSignature, extendedKeyUsage codeSigning */
static struct pki issued;       /* a leaf that the signer certificate (CA:TRUE) issued */
static struct pki rsa1024;      /* the smallest accepted key */
static struct pki rsa512;       /* too small */
static struct pki ec;           /* not RSA */
static struct pki pss;          /* RSA-PSS: not plain RSA either */
static char tmp_dir[PATH_MAX];

/* --- certificates --- */

static int cert_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

static int cert_add_exts(X509 *x, X509 *issuer, enum ext_kind kind)
{
    if (kind == EXT_REQ_X509) /* what `openssl req -x509` adds (v3_ca): no key usage */
        return cert_add_ext(x, issuer, NID_subject_key_identifier, "hash") |
               cert_add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") |
               cert_add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
    if (kind == EXT_CODESIGN)
        return cert_add_ext(x, issuer, NID_basic_constraints, "CA:FALSE") |
               cert_add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") |
               cert_add_ext(x, issuer, NID_ext_key_usage, "codeSigning");
    return 0;
}

static int cert_set_serial(X509 *x, const uint8_t *serial, size_t len)
{
    BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
    int rc = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL ? 0 : -1;

    BN_free(bn);
    return rc;
}

static int cert_set_subject(X509 *x, const char *org, const char *cn)
{
    X509_NAME *name = X509_get_subject_name(x);

    /* O first so that the RFC 2253 text (most specific first) is "CN=...,O=..." */
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1,
                                   0) != 1)
        return -1;
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                      0) == 1
               ? 0
               : -1;
}

/* Self-signed when issuer is NULL, else signed by issuer (cert and key). */
static X509 *cert_make(EVP_PKEY *key, const uint8_t *serial, size_t serial_len, const char *cn,
                       const struct pki *issuer, enum ext_kind kind)
{
    X509 *x = X509_new();
    X509 *issuer_cert = issuer != NULL ? issuer->cert : x;
    EVP_PKEY *issuer_key = issuer != NULL ? issuer->key : key;

    if (x == NULL || X509_set_version(x, 2) != 1 || cert_set_serial(x, serial, serial_len) < 0 ||
        cert_set_subject(x, "loadsd-tests", cn) < 0 ||
        X509_set_issuer_name(x, X509_get_subject_name(issuer_cert)) != 1 ||
        ASN1_TIME_set(X509_getm_notBefore(x), (time_t)cert_not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)cert_not_after) == NULL ||
        X509_set_pubkey(x, key) != 1 || cert_add_exts(x, issuer_cert, kind) < 0 ||
        X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static char *cert_pem(X509 *x, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *pem = NULL;
    long n;

    if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
        goto out;
    n = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)n + 1);
    if (pem == NULL)
        goto out;
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    *len = (size_t)n;
out:
    BIO_free(bio);
    return pem;
}

static int pki_make(struct pki *p, EVP_PKEY *key, const uint8_t *serial, size_t serial_len,
                    const char *cn, const struct pki *issuer, enum ext_kind kind)
{
    p->key = key;
    if (key == NULL)
        return -1;
    p->cert = cert_make(key, serial, serial_len, cn, issuer, kind);
    if (p->cert == NULL)
        return -1;
    p->pem = cert_pem(p->cert, &p->pem_len);
    return p->pem != NULL ? 0 : -1;
}

static void pki_free(struct pki *p)
{
    free(p->pem);
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    memset(p, 0, sizeof(*p));
}

/* EVP_PKEY_Q_keygen takes a size for "RSA" only: RSA-PSS goes the long way. */
static EVP_PKEY *rsa_key_of(const char *type, size_t bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *key = NULL;

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1 || EVP_PKEY_generate(ctx, &key) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *rsa_key(size_t bits)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
}

static int group_setup(void **state)
{
    static const uint8_t s3[] = {3}, s4[] = {4}, s5[] = {5}, s6[] = {6}, s7[] = {7}, s8[] = {8},
                         s9[] = {9};
    /* whole seconds, so that the Unix times read back compare exactly */
    time_t now = time(NULL);

    (void)state;
    cert_not_before = (int64_t)now - 86400;
    cert_not_after = (int64_t)now + 365 * 86400;
    if (testdir_make("test_verify", tmp_dir) != 0)
        return -1;
    if (pki_make(&signer, rsa_key(2048), signer_serial, sizeof(signer_serial), "Test Vendor Signer",
                 NULL, EXT_REQ_X509) < 0 ||
        pki_make(&same_subject, rsa_key(2048), s3, 1, "Test Vendor Signer", NULL, EXT_NONE) < 0 ||
        pki_make(&other, rsa_key(2048), other_serial, sizeof(other_serial), "Other Signer", NULL,
                 EXT_REQ_X509) < 0 ||
        pki_make(&codesign, rsa_key(2048), s4, 1, "Code Signer", NULL, EXT_CODESIGN) < 0 ||
        pki_make(&issued, rsa_key(2048), s5, 1, "Issued Leaf", &signer, EXT_NONE) < 0 ||
        pki_make(&rsa1024, rsa_key(1024), s6, 1, "Small Signer", NULL, EXT_NONE) < 0 ||
        pki_make(&rsa512, rsa_key(512), s7, 1, "Tiny Signer", NULL, EXT_NONE) < 0 ||
        pki_make(&ec, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), s8, 1, "EC Signer", NULL,
                 EXT_NONE) < 0 ||
        pki_make(&pss, rsa_key_of("RSA-PSS", 2048), s9, 1, "PSS Signer", NULL, EXT_NONE) < 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pki_free(&signer);
    pki_free(&same_subject);
    pki_free(&other);
    pki_free(&codesign);
    pki_free(&issued);
    pki_free(&rsa1024);
    pki_free(&rsa512);
    pki_free(&ec);
    pki_free(&pss);
    return testdir_remove(tmp_dir) == 0 ? 0 : -1;
}

/* --- temporary files --- */

static const char *tmp_write(const char *name, const uint8_t *data, size_t len)
{
    static char path[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* An open descriptor on a file holding data (already unlinked). */
static int tmp_fd(const uint8_t *data, size_t len)
{
    char path[PATH_MAX + 64];
    int fd;

    snprintf(path, sizeof(path), "%s/sgn.XXXXXX", tmp_dir);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    return fd;
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* --- a signed file as sgn-format.md lays it out --- */

struct tlv_buf {
    uint8_t *p;
    size_t len, cap;
};

static void tlv_put(struct tlv_buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n > 0)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

/* Tag and 16-bit big-endian length (a container's, or before a value). */
static void tlv_head(struct tlv_buf *b, uint8_t tag, size_t n)
{
    uint8_t head[3] = {tag, (uint8_t)(n >> 8), (uint8_t)n};

    tlv_put(b, head, sizeof(head));
}

static void tlv_value(struct tlv_buf *b, uint8_t tag, const void *data, size_t n)
{
    tlv_head(b, tag, n);
    tlv_put(b, data, n);
}

static void tlv_u8(struct tlv_buf *b, uint8_t tag, uint8_t v)
{
    tlv_value(b, tag, &v, 1);
}

struct sgn_spec {
    const struct pki *key;
    enum sgn_hash hash;
    const char *subject; /* tag 4 */
    const uint8_t *serial;
    size_t serial_len;
    size_t payload_len;
};

struct sgn_file {
    uint8_t *data;
    size_t len;
    struct sgn_header h;
};

static const EVP_MD *spec_md(enum sgn_hash hash)
{
    return hash == SGN_HASH_SHA1     ? EVP_sha1()
           : hash == SGN_HASH_SHA512 ? EVP_sha512()
                                     : EVP_sha256();
}

static uint8_t key_index(size_t key_bytes)
{
    return key_bytes == 64 ? 0 : key_bytes == 128 ? 1 : key_bytes == 256 ? 2 : 3;
}

/* Tags 1, 2, 3{4,5,6}, 7{8,9{10,11}}, 12, 14, then 13 padding to a multiple of 4. */
static void sgn_write_header(struct tlv_buf *b, const struct sgn_spec *s, struct sgn_file *f,
                             size_t key_bytes)
{
    static const char issuer[] = "CN=Test Vendor Signer;O=loadsd-tests";
    static const char filename[] = "SIP41.9-4-2SR3-1S.loads";
    static const uint8_t version[2] = {1, 0}, zero_len[2] = {0, 0};
    size_t subject_n = strlen(s->subject) + 1;

    tlv_value(b, 1, version, 2);
    tlv_value(b, 2, zero_len, 2); /* set below */
    tlv_head(b, 3, 3 + subject_n + 3 + s->serial_len + 3 + sizeof(issuer));
    tlv_value(b, 4, s->subject, subject_n);
    tlv_value(b, 5, s->serial, s->serial_len);
    tlv_value(b, 6, issuer, sizeof(issuer));
    tlv_head(b, 7, 4 + 3 + 4 + 4);
    tlv_u8(b, 8, (uint8_t)s->hash);
    tlv_head(b, 9, 4 + 4);
    tlv_u8(b, 10, 0);
    tlv_u8(b, 11, key_index(key_bytes));
    f->h.sig_offset = b->len;
    tlv_head(b, 12, key_bytes);
    for (size_t i = 0; i < key_bytes; i++)
        tlv_put(b, "", 1); /* the value is written once the rest is signed */
    tlv_value(b, 14, filename, sizeof(filename));
    while (b->len % 4 != 0)
        tlv_put(b, "\x0d", 1);
    b->p[7] = (uint8_t)(b->len >> 8);
    b->p[8] = (uint8_t)b->len;

    f->h.version_major = 1;
    f->h.header_len = (uint16_t)b->len;
    snprintf(f->h.subject, sizeof(f->h.subject), "%s", s->subject);
    snprintf(f->h.issuer, sizeof(f->h.issuer), "%s", issuer);
    memcpy(f->h.serial, s->serial, s->serial_len);
    f->h.serial_len = s->serial_len;
    f->h.hash = s->hash;
    f->h.algorithm = 0;
    f->h.key_bytes = (uint32_t)key_bytes;
    f->h.sig_len = key_bytes;
    snprintf(f->h.filename, sizeof(f->h.filename), "%s", filename);
}

/* Signs a copy of the file with the tag-12 TLV cut out, in one piece (the
 * code under test streams it in pieces), and writes the value into place. */
static void sgn_sign(struct sgn_file *f, const struct pki *key, enum sgn_hash hash)
{
    size_t cut = SGN_SIG_TLV_LEN + f->h.sig_len;
    size_t n = f->len - cut, sig_len = f->h.sig_len;
    uint8_t *obj = malloc(n);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;

    assert_non_null(obj);
    assert_non_null(mctx);
    memcpy(obj, f->data, f->h.sig_offset);
    memcpy(obj + f->h.sig_offset, f->data + f->h.sig_offset + cut, n - f->h.sig_offset);
    assert_int_equal(EVP_DigestSignInit(mctx, &pctx, spec_md(hash), NULL, key->key), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
    assert_int_equal(
        EVP_DigestSign(mctx, f->data + f->h.sig_offset + SGN_SIG_TLV_LEN, &sig_len, obj, n), 1);
    assert_int_equal(sig_len, f->h.sig_len);
    EVP_MD_CTX_free(mctx);
    free(obj);
}

static void sgn_build(const struct sgn_spec *s, struct sgn_file *f)
{
    struct tlv_buf b = {0};
    size_t key_bytes = (size_t)EVP_PKEY_get_size(s->key->key);
    uint8_t *payload = malloc(s->payload_len + 1);

    assert_non_null(payload);
    memset(f, 0, sizeof(*f));
    sgn_write_header(&b, s, f, key_bytes);
    fill_pattern(payload, s->payload_len, 42);
    tlv_put(&b, payload, s->payload_len);
    free(payload);
    f->data = b.p;
    f->len = b.len;
    sgn_sign(f, s->key, s->hash);
}

static void sgn_build_default(struct sgn_file *f, enum sgn_hash hash, size_t payload_len)
{
    struct sgn_spec s = {&signer,
                         hash,
                         "CN=Test Vendor Signer;OU=Phones;O=loadsd-tests",
                         signer_serial,
                         sizeof(signer_serial),
                         payload_len};

    sgn_build(&s, f);
}

/* Writes the file (or its first len bytes) and verifies it with cert. */
static int sgn_check(const struct sgn_file *f, size_t len, uint64_t size,
                     const struct sgn_header *h, const struct pki *cert)
{
    int fd = tmp_fd(f->data, len);
    int rc = verify_sgn_signature(fd, size, h, cert->pem, cert->pem_len);

    close(fd);
    assert_int_equal(ERR_peek_error(), 0);
    return rc;
}

static int sgn_check_whole(const struct sgn_file *f, const struct sgn_header *h)
{
    return sgn_check(f, f->len, f->len, h, &signer);
}

/* --- verify_cert_info --- */

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_cert_info_fields(void **state)
{
    struct verify_cert_info info;
    unsigned char *der = NULL;
    int der_len = i2d_X509(signer.cert, &der);
    uint8_t md[32];
    char md_hex[65];

    (void)state;
    assert_true(der_len > 0);
    assert_int_equal(EVP_Digest(der, (size_t)der_len, md, NULL, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    hex_of(md, sizeof(md), md_hex);

    assert_int_equal(verify_cert_info(signer.pem, signer.pem_len, &info), VERIFY_OK);
    assert_string_equal(info.subject, "CN=Test Vendor Signer,O=loadsd-tests");
    assert_string_equal(info.issuer, "CN=Test Vendor Signer,O=loadsd-tests");
    assert_string_equal(info.serial_hex, "1a2b3c4d5e6f7081");
    assert_string_equal(info.sha256_hex, md_hex);
    assert_int_equal(info.not_before, cert_not_before);
    assert_int_equal(info.not_after, cert_not_after);
    assert_int_equal(info.key_bits, 2048);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_cert_info_other_certs(void **state)
{
    struct verify_cert_info info;

    (void)state;
    /* DER writes 0x88... with a leading zero byte: the text must not */
    assert_int_equal(verify_cert_info(other.pem, other.pem_len, &info), VERIFY_OK);
    assert_string_equal(info.serial_hex, "88776655");
    assert_string_equal(info.subject, "CN=Other Signer,O=loadsd-tests");
    assert_int_equal(verify_cert_info(issued.pem, issued.pem_len, &info), VERIFY_OK);
    assert_string_equal(info.subject, "CN=Issued Leaf,O=loadsd-tests");
    assert_string_equal(info.issuer, "CN=Test Vendor Signer,O=loadsd-tests");
    assert_string_equal(info.serial_hex, "05");
    assert_int_equal(verify_cert_info(rsa1024.pem, rsa1024.pem_len, &info), VERIFY_OK);
    assert_int_equal(info.key_bits, 1024);
}

/* The signer's PEM with text around it; checks the result, then frees. */
static void check_wrapped(const char *before, const char *after, int want)
{
    size_t n = strlen(before) + signer.pem_len + strlen(after);
    char *pem = malloc(n + 1);
    struct verify_cert_info info;

    assert_non_null(pem);
    snprintf(pem, n + 1, "%s%s%s", before, signer.pem, after);
    assert_int_equal(verify_cert_info(pem, n, &info), want);
    if (want != VERIFY_OK)
        assert_string_equal(info.subject, "");
    assert_int_equal(ERR_peek_error(), 0);
    free(pem);
}

static void test_cert_info_framing(void **state)
{
    (void)state;
    check_wrapped("", "\n\r\n  \t\n", VERIFY_OK);
    check_wrapped("Certificate:\n    Data: text as `openssl x509 -text` prints it\n", "",
                  VERIFY_OK);
    check_wrapped("", "garbage\n", VERIFY_BAD_CERT);
    check_wrapped("", "\n\n", VERIFY_OK);
    check_wrapped("", other.pem, VERIFY_BAD_CERT); /* two certificates */
    check_wrapped("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "",
                  VERIFY_BAD_CERT); /* another block first */
}

/* Well-formed PEM blocks around a certificate's DER plus one byte, or under
 * another name. */
static void test_cert_info_der_trailing(void **state)
{
    struct verify_cert_info info;
    unsigned char *der = NULL;
    int der_len = i2d_X509(signer.cert, &der);
    unsigned char *longer = malloc((size_t)der_len + 1);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n;

    (void)state;
    assert_true(der_len > 0);
    assert_non_null(longer);
    assert_non_null(bio);
    memcpy(longer, der, (size_t)der_len);
    longer[der_len] = 0;
    assert_true(PEM_write_bio(bio, "CERTIFICATE", "", der, der_len) > 0);
    n = BIO_get_mem_data(bio, &pem);
    assert_int_equal(verify_cert_info(pem, (size_t)n, &info), VERIFY_OK); /* the control */
    assert_int_equal(BIO_reset(bio), 1);
    assert_true(PEM_write_bio(bio, "CERTIFICATE", "", longer, der_len + 1) > 0);
    n = BIO_get_mem_data(bio, &pem);
    assert_int_equal(verify_cert_info(pem, (size_t)n, &info), VERIFY_BAD_CERT);
    /* the right DER under another block name */
    assert_int_equal(BIO_reset(bio), 1);
    assert_true(PEM_write_bio(bio, "TRUSTED CERTIFICATE", "", der, der_len) > 0);
    n = BIO_get_mem_data(bio, &pem);
    assert_int_equal(verify_cert_info(pem, (size_t)n, &info), VERIFY_BAD_CERT);
    assert_int_equal(ERR_peek_error(), 0);
    BIO_free(bio);
    free(longer);
    OPENSSL_free(der);
}

static void test_cert_info_rejects(void **state)
{
    static const char garbage[] = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                                  "-----END CERTIFICATE-----\n";
    struct verify_cert_info info;
    char *big = malloc(VERIFY_PEM_MAX + 2);

    (void)state;
    assert_non_null(big);
    assert_int_equal(verify_cert_info(garbage, strlen(garbage), &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info("hello", 5, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info("", 0, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info(NULL, 10, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info(signer.pem, signer.pem_len, NULL), VERIFY_BAD_CERT);
    /* cut in the middle of the base64 and just before the END line */
    assert_int_equal(verify_cert_info(signer.pem, signer.pem_len / 2, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info(signer.pem, signer.pem_len - 27, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info(ec.pem, ec.pem_len, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info(rsa512.pem, rsa512.pem_len, &info), VERIFY_BAD_CERT);
    assert_int_equal(verify_cert_info(pss.pem, pss.pem_len, &info), VERIFY_BAD_CERT);
    /* over the size limit even though the certificate itself is fine */
    memcpy(big, signer.pem, signer.pem_len);
    memset(big + signer.pem_len, '\n', VERIFY_PEM_MAX + 1 - signer.pem_len);
    assert_int_equal(verify_cert_info(big, VERIFY_PEM_MAX, &info), VERIFY_OK);
    assert_int_equal(verify_cert_info(big, VERIFY_PEM_MAX + 1, &info), VERIFY_BAD_CERT);
    assert_int_equal(ERR_peek_error(), 0);
    free(big);
}

/* --- verify_sgn_is_signer --- */

static void fill_signer_header(struct sgn_header *h, const char *subject, const uint8_t *serial,
                               size_t serial_len)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->subject, sizeof(h->subject), "%s", subject);
    memcpy(h->serial, serial, serial_len);
    h->serial_len = serial_len;
}

static void test_is_signer(void **state)
{
    static const struct {
        const char *subject;
        bool want;
    } cases[] = {
        {"CN=Test Vendor Signer;OU=Phones;O=loadsd-tests", true},
        {"CN=Test Vendor Signer,OU=Phones,O=loadsd-tests", true},
        {"CN=Test Vendor Signer", true},
        {"O=loadsd-tests;CN=Test Vendor Signer", true},
        {"O=loadsd-tests, CN=Test Vendor Signer;OU=x", true},
        {"CN=Test Vendor Signer2;O=loadsd-tests", false},
        {"CN=Test Vendor Signe;O=loadsd-tests", false},
        {"CN=test vendor signer;O=loadsd-tests", false},
        {"OU=CN=Test Vendor Signer;O=loadsd-tests", false},
        {"XCN=Test Vendor Signer", false},
        {"CN=Test Vendor Signer O=loadsd-tests", false},
        {"", false},
    };
    static const uint8_t zero_lead[] = {0, 0, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81};
    static const uint8_t short_serial[] = {0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81};
    static const uint8_t zeros[] = {0, 0};
    struct sgn_header h;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fill_signer_header(&h, cases[i].subject, signer_serial, sizeof(signer_serial));
        if (verify_sgn_is_signer(&h, signer.pem, signer.pem_len) != cases[i].want)
            fail_msg("subject \"%s\": expected %d", cases[i].subject, cases[i].want);
    }
    fill_signer_header(&h, "CN=Test Vendor Signer", zero_lead, sizeof(zero_lead));
    assert_true(verify_sgn_is_signer(&h, signer.pem, signer.pem_len));
    fill_signer_header(&h, "CN=Test Vendor Signer", short_serial, sizeof(short_serial));
    assert_false(verify_sgn_is_signer(&h, signer.pem, signer.pem_len));
    fill_signer_header(&h, "CN=Test Vendor Signer", zeros, sizeof(zeros));
    assert_false(verify_sgn_is_signer(&h, signer.pem, signer.pem_len));
    fill_signer_header(&h, "CN=Test Vendor Signer", zeros, 0);
    assert_false(verify_sgn_is_signer(&h, signer.pem, signer.pem_len));
    /* same subject, another serial */
    fill_signer_header(&h, "CN=Test Vendor Signer", signer_serial, sizeof(signer_serial));
    assert_false(verify_sgn_is_signer(&h, same_subject.pem, same_subject.pem_len));
    assert_false(verify_sgn_is_signer(&h, "junk", 4));
    assert_false(verify_sgn_is_signer(NULL, signer.pem, signer.pem_len));
    /* the high-bit serial: DER's leading zero byte is not part of it */
    fill_signer_header(&h, "CN=Other Signer;O=x", other_serial, sizeof(other_serial));
    assert_true(verify_sgn_is_signer(&h, other.pem, other.pem_len));
    assert_int_equal(ERR_peek_error(), 0);
}

/* --- verify_sgn_signature --- */

static void test_sgn_ok_each_hash(void **state)
{
    static const enum sgn_hash hashes[] = {SGN_HASH_SHA1, SGN_HASH_SHA256, SGN_HASH_SHA512};

    (void)state;
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        struct sgn_file f;

        sgn_build_default(&f, hashes[i], 1000);
        /* SHA-1 verifies: Debian's OpenSSL 3.0 keeps it for signatures at
         * the EVP level (security levels apply to TLS and X.509 only). */
        assert_int_equal(sgn_check_whole(&f, &f.h), VERIFY_OK);
        /* the other hashes over the same bytes do not */
        f.h.hash = hashes[(i + 1) % 3];
        assert_int_equal(sgn_check_whole(&f, &f.h), VERIFY_BAD_SIGNATURE);
        free(f.data);
    }
}

static void test_sgn_ok_1024_and_empty_payload(void **state)
{
    struct sgn_spec s = {
        &rsa1024, SGN_HASH_SHA256, "CN=Small Signer,O=loadsd-tests", (const uint8_t *)"\x06", 1, 0};
    struct sgn_file f;

    (void)state;
    sgn_build(&s, &f);
    assert_int_equal(f.h.key_bytes, 128);
    assert_int_equal(sgn_check(&f, f.len, f.len, &f.h, &rsa1024), VERIFY_OK);
    /* the 2048-bit signer's header fields do not match this file */
    assert_int_equal(sgn_check(&f, f.len, f.len, &f.h, &signer), VERIFY_NOT_SIGNER);
    free(f.data);
}

static void test_sgn_big_payload(void **state)
{
    struct sgn_file f;

    (void)state;
    sgn_build_default(&f, SGN_HASH_SHA256, BIG_PAYLOAD);
    assert_int_equal(sgn_check_whole(&f, &f.h), VERIFY_OK);
    f.data[f.len - 1] ^= 0x01; /* in the third chunk */
    assert_int_equal(sgn_check_whole(&f, &f.h), VERIFY_BAD_SIGNATURE);
    f.data[f.len - 1] ^= 0x01;
    f.data[f.h.header_len + 1024 * 1024] ^= 0x80; /* in the second chunk */
    assert_int_equal(sgn_check_whole(&f, &f.h), VERIFY_BAD_SIGNATURE);
    free(f.data);
}

static void flip_and_check(struct sgn_file *f, size_t at)
{
    f->data[at] ^= 0x20;
    if (sgn_check_whole(f, &f->h) != VERIFY_BAD_SIGNATURE)
        fail_msg("byte %zu flipped: still verifies", at);
    f->data[at] ^= 0x20;
}

static void test_sgn_flipped_bytes(void **state)
{
    struct sgn_file f;
    size_t sig_value = 0;

    (void)state;
    sgn_build_default(&f, SGN_HASH_SHA512, 4096);
    sig_value = f.h.sig_offset + SGN_SIG_TLV_LEN;
    flip_and_check(&f, f.h.header_len);              /* first payload byte */
    flip_and_check(&f, f.len / 2 + f.h.header_len);  /* a payload byte */
    flip_and_check(&f, 0);                           /* tag 1 */
    flip_and_check(&f, 8);                           /* the header length */
    flip_and_check(&f, 16);                          /* in the subject */
    flip_and_check(&f, f.h.sig_offset - 1);          /* tag 11 value, just before tag 12 */
    flip_and_check(&f, sig_value + f.h.sig_len);     /* tag 14, just after tag 12 */
    flip_and_check(&f, f.h.header_len - 1);          /* last header byte */
    flip_and_check(&f, sig_value);                   /* the signature value itself */
    flip_and_check(&f, sig_value + f.h.sig_len - 1); /* its last byte */
    flip_and_check(&f, f.h.sig_offset);              /* tag 12's tag byte */
    flip_and_check(&f, f.h.sig_offset + 1);          /* and its length */
    assert_int_equal(sgn_check_whole(&f, &f.h), VERIFY_OK);
    free(f.data);
}

static void test_sgn_not_signer(void **state)
{
    struct sgn_file f;
    struct sgn_header h;

    (void)state;
    sgn_build_default(&f, SGN_HASH_SHA256, 100);
    assert_int_equal(sgn_check(&f, f.len, f.len, &f.h, &same_subject), VERIFY_NOT_SIGNER);
    assert_int_equal(sgn_check(&f, f.len, f.len, &f.h, &other), VERIFY_NOT_SIGNER);
    h = f.h;
    snprintf(h.subject, sizeof(h.subject), "CN=Someone Else;O=loadsd-tests");
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_NOT_SIGNER);
    free(f.data);
}

static void test_sgn_unsupported(void **state)
{
    struct sgn_file f;
    struct sgn_header h;

    (void)state;
    sgn_build_default(&f, SGN_HASH_SHA256, 100);
    h = f.h;
    h.key_bytes = 128;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    h.sig_len = 128;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    h = f.h;
    h.key_bytes = 512;
    h.sig_len = 512;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    h = f.h;
    h.sig_len = 255;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    h = f.h;
    h.algorithm = 1;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    h = f.h;
    h.hash = (enum sgn_hash)0;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    h.hash = (enum sgn_hash)4;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_UNSUPPORTED);
    free(f.data);
}

static void test_sgn_truncated(void **state)
{
    struct sgn_file f;
    struct sgn_header h;
    size_t sig_end;

    (void)state;
    sgn_build_default(&f, SGN_HASH_SHA256, 5000);
    sig_end = f.h.sig_offset + SGN_SIG_TLV_LEN + f.h.sig_len;
    /* a shorter file, its size told truthfully: the bytes are not the signed ones */
    for (size_t len = 0; len < f.len; len += len < sig_end + 8 ? 1 : 997) {
        int rc = sgn_check(&f, len, len, &f.h, &signer);

        if (rc != VERIFY_BAD_SIGNATURE)
            fail_msg("truncated to %zu of %zu: %d", len, f.len, rc);
    }
    /* the file is shorter than the size the caller gives */
    assert_int_equal(sgn_check(&f, f.len - 1, f.len, &f.h, &signer), VERIFY_IO);
    assert_int_equal(sgn_check(&f, sig_end - 1, f.len, &f.h, &signer), VERIFY_IO);
    assert_int_equal(sgn_check(&f, f.len, f.len + 1, &f.h, &signer), VERIFY_IO);
    /* a header whose signature offset is wrong or out of range */
    h = f.h;
    h.sig_offset += 1;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_BAD_SIGNATURE);
    h.sig_offset = (size_t)UINT32_MAX * 16;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_BAD_SIGNATURE);
    h.sig_offset = SIZE_MAX - 2;
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_BAD_SIGNATURE);
    assert_int_equal(verify_sgn_signature(-1, f.len, &f.h, signer.pem, signer.pem_len),
                     VERIFY_BAD_SIGNATURE);
    free(f.data);
}

static void test_sgn_bad_cert(void **state)
{
    struct sgn_file f;
    struct sgn_header h;

    (void)state;
    sgn_build_default(&f, SGN_HASH_SHA256, 100);
    h = f.h;
    h.serial[0] = 7;
    h.serial_len = 1;
    snprintf(h.subject, sizeof(h.subject), "CN=Tiny Signer");
    assert_int_equal(sgn_check_whole(&f, &h), VERIFY_NOT_SIGNER);
    assert_int_equal(sgn_check(&f, f.len, f.len, &h, &rsa512), VERIFY_BAD_CERT);
    assert_int_equal(sgn_check(&f, f.len, f.len, &h, &ec), VERIFY_BAD_CERT);
    assert_int_equal(verify_sgn_signature(0, f.len, &f.h, "junk", 4), VERIFY_BAD_CERT);
    assert_int_equal(verify_sgn_signature(0, f.len, NULL, signer.pem, signer.pem_len),
                     VERIFY_BAD_CERT);
    free(f.data);
}

/* --- verify_cms_detached --- */

struct cms_sig {
    uint8_t *der;
    size_t len;
};

static void cms_make(const struct pki *by, const uint8_t *content, size_t len, unsigned flags,
                     struct cms_sig *out)
{
    BIO *in = BIO_new_mem_buf(content, (int)len);
    BIO *der = BIO_new(BIO_s_mem());
    CMS_ContentInfo *cms;
    char *p = NULL;
    long n;

    assert_non_null(in);
    assert_non_null(der);
    cms = CMS_sign(by->cert, by->key, NULL, in, CMS_BINARY | flags);
    assert_non_null(cms);
    assert_int_equal(i2d_CMS_bio(der, cms), 1);
    n = BIO_get_mem_data(der, &p);
    out->der = malloc((size_t)n);
    assert_non_null(out->der);
    memcpy(out->der, p, (size_t)n);
    out->len = (size_t)n;
    CMS_ContentInfo_free(cms);
    BIO_free(der);
    BIO_free(in);
}

struct cms_fixture {
    uint8_t *bundle;
    size_t len;
    char path[PATH_MAX + 64];
};

static void cms_fixture_make(struct cms_fixture *fx)
{
    fx->len = 200 * 1024;
    fx->bundle = malloc(fx->len);
    assert_non_null(fx->bundle);
    fill_pattern(fx->bundle, fx->len, 7);
    snprintf(fx->path, sizeof(fx->path), "%s", tmp_write("bundle.zip", fx->bundle, fx->len));
}

static char cms_fp[65]; /* the signer's fingerprint from the last cms_check */

static int cms_check(const struct cms_fixture *fx, const struct cms_sig *sig,
                     const struct pki *const *approval, size_t n, char *signer_out, size_t cap)
{
    const char *pems[4];
    int rc;

    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++)
        pems[i] = approval[i]->pem;
    memset(cms_fp, 'x', sizeof(cms_fp));
    rc = verify_cms_detached(fx->path, sig->der, sig->len, pems, n, signer_out, cap, cms_fp);
    if (rc != VERIFY_OK)
        assert_string_equal(cms_fp, "");
    assert_int_equal(ERR_peek_error(), 0);
    return rc;
}

static void test_cms_ok(void **state)
{
    const struct pki *just_signer[] = {&signer};
    const struct pki *both[] = {&other, &signer};
    const struct pki *just_issued[] = {&issued};
    struct cms_fixture fx;
    struct cms_sig sig, nocerts;
    struct verify_cert_info info;
    char who[VERIFY_TEXT_MAX];

    (void)state;
    cms_fixture_make(&fx);
    cms_make(&signer, fx.bundle, fx.len, CMS_DETACHED, &sig);
    assert_int_equal(cms_check(&fx, &sig, just_signer, 1, who, sizeof(who)), VERIFY_OK);
    assert_string_equal(who, "CN=Test Vendor Signer,O=loadsd-tests");
    assert_int_equal(cms_check(&fx, &sig, both, 2, who, sizeof(who)), VERIFY_OK);
    assert_string_equal(who, "CN=Test Vendor Signer,O=loadsd-tests");
    /* the fingerprint names the signer's certificate, not the other one */
    assert_int_equal(verify_cert_info(signer.pem, signer.pem_len, &info), VERIFY_OK);
    assert_string_equal(cms_fp, info.sha256_hex);
    assert_int_equal(cms_check(&fx, &sig, both, 2, who, 8), VERIFY_OK);
    assert_string_equal(who, "CN=Test");
    assert_int_equal(cms_check(&fx, &sig, both, 2, NULL, 0), VERIFY_OK);
    /* no certificate inside: found among the approval certificates */
    cms_make(&signer, fx.bundle, fx.len, CMS_DETACHED | CMS_NOCERTS, &nocerts);
    assert_true(nocerts.len < sig.len);
    assert_int_equal(cms_check(&fx, &nocerts, both, 2, who, sizeof(who)), VERIFY_OK);
    assert_string_equal(who, "CN=Test Vendor Signer,O=loadsd-tests");
    free(nocerts.der);
    /* an approval certificate that is not self-signed: trusted as it is */
    cms_make(&issued, fx.bundle, fx.len, CMS_DETACHED, &nocerts);
    assert_int_equal(cms_check(&fx, &nocerts, just_issued, 1, who, sizeof(who)), VERIFY_OK);
    assert_string_equal(who, "CN=Issued Leaf,O=loadsd-tests");
    free(nocerts.der);
    free(sig.der);
    free(fx.bundle);
}

static void test_cms_purpose(void **state)
{
    const struct pki *just_codesign[] = {&codesign};
    struct cms_fixture fx;
    struct cms_sig sig;
    char who[VERIFY_TEXT_MAX];

    (void)state;
    /* extendedKeyUsage codeSigning only: not an S/MIME certificate, accepted */
    cms_fixture_make(&fx);
    cms_make(&codesign, fx.bundle, fx.len, CMS_DETACHED, &sig);
    assert_int_equal(cms_check(&fx, &sig, just_codesign, 1, who, sizeof(who)), VERIFY_OK);
    assert_string_equal(who, "CN=Code Signer,O=loadsd-tests");
    free(sig.der);
    free(fx.bundle);
}

static void test_cms_not_approved(void **state)
{
    const struct pki *just_other[] = {&other};
    const struct pki *just_signer[] = {&signer};
    const struct pki *same[] = {&same_subject};
    struct cms_fixture fx;
    struct cms_sig sig, by_other, by_issued;
    char who[VERIFY_TEXT_MAX] = "x";

    (void)state;
    cms_fixture_make(&fx);
    cms_make(&signer, fx.bundle, fx.len, CMS_DETACHED, &sig);
    cms_make(&other, fx.bundle, fx.len, CMS_DETACHED, &by_other);
    cms_make(&issued, fx.bundle, fx.len, CMS_DETACHED, &by_issued);
    assert_int_equal(cms_check(&fx, &sig, just_other, 1, who, sizeof(who)), VERIFY_NOT_SIGNER);
    assert_string_equal(who, "");
    assert_int_equal(cms_check(&fx, &sig, same, 1, who, sizeof(who)), VERIFY_NOT_SIGNER);
    assert_int_equal(cms_check(&fx, &sig, NULL, 0, who, sizeof(who)), VERIFY_NOT_SIGNER);
    /* embedded in the signature, but not an approval certificate */
    assert_int_equal(cms_check(&fx, &by_other, just_signer, 1, who, sizeof(who)),
                     VERIFY_NOT_SIGNER);
    /* issued by an approval certificate (CA:TRUE) is not enough */
    assert_int_equal(cms_check(&fx, &by_issued, just_signer, 1, who, sizeof(who)),
                     VERIFY_NOT_SIGNER);
    assert_string_equal(who, "");
    free(by_issued.der);
    free(by_other.der);
    free(sig.der);
    free(fx.bundle);
}

static void test_cms_bad_signature(void **state)
{
    const struct pki *just_signer[] = {&signer};
    const struct pki *with_bad[] = {&signer, &ec};
    struct cms_fixture fx;
    struct cms_sig sig, embedded, bad;
    char who[VERIFY_TEXT_MAX];

    (void)state;
    cms_fixture_make(&fx);
    cms_make(&signer, fx.bundle, fx.len, CMS_DETACHED, &sig);
    cms_make(&signer, fx.bundle, fx.len, 0, &embedded);
    /* a tampered bundle */
    fx.bundle[fx.len / 2] ^= 1;
    tmp_write("bundle.zip", fx.bundle, fx.len);
    assert_int_equal(cms_check(&fx, &sig, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    fx.bundle[fx.len / 2] ^= 1;
    tmp_write("bundle.zip", fx.bundle, fx.len - 1);
    assert_int_equal(cms_check(&fx, &sig, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    tmp_write("bundle.zip", fx.bundle, fx.len);
    assert_int_equal(cms_check(&fx, &sig, just_signer, 1, who, sizeof(who)), VERIFY_OK);
    /* the content inside the signature instead of detached */
    assert_int_equal(cms_check(&fx, &embedded, just_signer, 1, who, sizeof(who)),
                     VERIFY_BAD_SIGNATURE);
    /* garbage, truncated, trailing bytes, too big, empty */
    bad.len = sig.len + 1;
    bad.der = malloc(70 * 1024);
    assert_non_null(bad.der);
    fill_pattern(bad.der, 70 * 1024, 3);
    assert_int_equal(cms_check(&fx, &bad, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    memcpy(bad.der, sig.der, sig.len);
    assert_int_equal(cms_check(&fx, &bad, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    bad.len = sig.len - 1;
    assert_int_equal(cms_check(&fx, &bad, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    bad.der[sig.len - 40] ^= 0x01; /* in the signature value */
    bad.len = sig.len;
    assert_int_equal(cms_check(&fx, &bad, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    bad.len = 64 * 1024 + 1;
    assert_int_equal(cms_check(&fx, &bad, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    bad.len = 0;
    assert_int_equal(cms_check(&fx, &bad, just_signer, 1, who, sizeof(who)), VERIFY_BAD_SIGNATURE);
    /* an approval certificate that is not acceptable fails the whole check */
    assert_int_equal(cms_check(&fx, &sig, with_bad, 2, who, sizeof(who)), VERIFY_BAD_CERT);
    /* no bundle file */
    snprintf(fx.path, sizeof(fx.path), "%s/missing.zip", tmp_dir);
    assert_int_equal(cms_check(&fx, &sig, just_signer, 1, who, sizeof(who)), VERIFY_IO);
    free(bad.der);
    free(embedded.der);
    free(sig.der);
    free(fx.bundle);
}

static void test_strerror(void **state)
{
    static const int codes[] = {VERIFY_OK,          VERIFY_BAD_CERT,
                                VERIFY_NOT_SIGNER,  VERIFY_BAD_SIGNATURE,
                                VERIFY_UNSUPPORTED, VERIFY_IO};
    const char *seen[sizeof(codes) / sizeof(codes[0])];

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        seen[i] = verify_strerror(codes[i]);
        assert_non_null(seen[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    assert_string_equal(verify_strerror(-99), "unknown verification result");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_info_fields),
        cmocka_unit_test(test_cert_info_other_certs),
        cmocka_unit_test(test_cert_info_framing),
        cmocka_unit_test(test_cert_info_der_trailing),
        cmocka_unit_test(test_cert_info_rejects),
        cmocka_unit_test(test_is_signer),
        cmocka_unit_test(test_sgn_ok_each_hash),
        cmocka_unit_test(test_sgn_ok_1024_and_empty_payload),
        cmocka_unit_test(test_sgn_big_payload),
        cmocka_unit_test(test_sgn_flipped_bytes),
        cmocka_unit_test(test_sgn_not_signer),
        cmocka_unit_test(test_sgn_unsupported),
        cmocka_unit_test(test_sgn_truncated),
        cmocka_unit_test(test_sgn_bad_cert),
        cmocka_unit_test(test_cms_ok),
        cmocka_unit_test(test_cms_purpose),
        cmocka_unit_test(test_cms_not_approved),
        cmocka_unit_test(test_cms_bad_signature),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
