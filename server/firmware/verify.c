/* verify.c: certificate facts for the trust store, the RSA PKCS#1 v1.5 signature
 * inside a signed header, and detached CMS approval signatures (libcrypto EVP).
 * Fail closed; never touches the database; leaves no OpenSSL errors queued. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "lib/sizes.h"
#include "server/firmware/verify.h"

#define VERIFY_KEY_BITS_MIN 1024
#define VERIFY_KEY_BITS_MAX 4096
#define VERIFY_CHUNK        (1024 * 1024)
#define VERIFY_CMS_MAX      (64 * 1024)
#define VERIFY_SIG_TAG      12

static bool verify_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* After the certificate only whitespace may follow: a second block or stray
 * text means the input is not the one certificate the caller thinks it is. */
static bool verify_rest_is_space(BIO *bio)
{
    char *rest = NULL;
    long n = BIO_get_mem_data(bio, &rest);

    for (long i = 0; i < n; i++) {
        if (!verify_is_space((unsigned char)rest[i]))
            return false;
    }
    return true;
}

/* Decodes the DER of a PEM "CERTIFICATE" block; every byte must belong to it. */
static X509 *verify_der_to_x509(const unsigned char *der, long der_len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, der_len);

    if (x != NULL && p != der + der_len) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* One PEM certificate, nothing else. PEM_read_bio (not PEM_read_bio_X509)
 * because the latter silently skips blocks of other types before the
 * certificate and ignores bytes after the DER inside the block. */
static X509 *verify_load_cert(const char *pem, size_t len)
{
    X509 *x = NULL;
    BIO *bio = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long der_len = 0;

    if (pem == NULL || len == 0 || len > VERIFY_PEM_MAX)
        goto out;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        goto out;
    if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1)
        goto out;
    if (strcmp(name, PEM_STRING_X509) != 0 || header[0] != '\0' || !verify_rest_is_space(bio))
        goto out;
    x = verify_der_to_x509(der, der_len);
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    return x;
}

/* The only keys we accept: RSA (not RSA-PSS), 1024 to 4096 bits. */
static int verify_rsa_bits(X509 *x)
{
    EVP_PKEY *pkey = X509_get0_pubkey(x);
    int bits;

    if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
        return -1;
    bits = EVP_PKEY_get_bits(pkey);
    if (bits < VERIFY_KEY_BITS_MIN || bits > VERIFY_KEY_BITS_MAX)
        return -1;
    return bits;
}

static X509 *verify_load_rsa_cert(const char *pem, size_t len)
{
    X509 *x = verify_load_cert(pem, len);

    if (x != NULL && verify_rsa_bits(x) < 0) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* One-line RFC 2253 text (non-ASCII and control bytes escaped), cut to cap. */
static int verify_name_text(const X509_NAME *name, char *out, size_t cap)
{
    int rc = -1;
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL;
    long n;

    if (bio == NULL || cap == 0)
        goto out;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
        goto out;
    n = BIO_get_mem_data(bio, &text);
    if (n < 0)
        goto out;
    if ((size_t)n >= cap)
        n = (long)cap - 1;
    if (n > 0)
        memcpy(out, text, (size_t)n);
    out[n] = '\0';
    rc = 0;
out:
    BIO_free(bio);
    return rc;
}

static void verify_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* The serial as big-endian bytes without leading zeros. RFC 5280 serials are
 * positive; zero, negative or longer than SGN_SERIAL_MAX is refused. */
static int verify_serial_bytes(X509 *x, uint8_t out[SGN_SERIAL_MAX], size_t *out_len)
{
    int rc = -1;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    int n;

    if (bn == NULL || BN_is_negative(bn) || BN_is_zero(bn))
        goto out;
    n = BN_num_bytes(bn);
    if (n <= 0 || n > SGN_SERIAL_MAX)
        goto out;
    if (BN_bn2bin(bn, out) != n)
        goto out;
    *out_len = (size_t)n;
    rc = 0;
out:
    BN_free(bn);
    return rc;
}

static int verify_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int verify_fingerprint(X509 *x, char out[SHA256_HEX_BUF])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
        return -1;
    verify_hex(md, n, out);
    return 0;
}

static int verify_fill_info(X509 *x, int bits, struct verify_cert_info *out)
{
    uint8_t serial[SGN_SERIAL_MAX];
    size_t serial_len = 0;

    if (verify_name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject)) < 0 ||
        verify_name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer)) < 0)
        return -1;
    if (verify_serial_bytes(x, serial, &serial_len) < 0)
        return -1;
    verify_hex(serial, serial_len, out->serial_hex);
    if (verify_fingerprint(x, out->sha256_hex) < 0)
        return -1;
    if (verify_time_unix(X509_get0_notBefore(x), &out->not_before) < 0 ||
        verify_time_unix(X509_get0_notAfter(x), &out->not_after) < 0)
        return -1;
    out->key_bits = (unsigned)bits;
    return 0;
}

int verify_cert_info(const char *pem, size_t len, struct verify_cert_info *out)
{
    int rc = VERIFY_BAD_CERT;
    X509 *x = NULL;
    int bits;

    if (out == NULL)
        goto out;
    memset(out, 0, sizeof(*out));
    x = verify_load_cert(pem, len);
    if (x == NULL)
        goto out;
    bits = verify_rsa_bits(x);
    if (bits < 0 || verify_fill_info(x, bits, out) < 0)
        goto out;
    rc = VERIFY_OK;
out:
    if (rc != VERIFY_OK && out != NULL)
        memset(out, 0, sizeof(*out));
    X509_free(x);
    ERR_clear_error();
    return rc;
}

/* Header serial bytes with leading zeros stripped must equal the certificate's. */
static bool verify_serial_matches(const struct sgn_header *h, X509 *x)
{
    uint8_t serial[SGN_SERIAL_MAX];
    size_t serial_len = 0, skip = 0, hlen = h->serial_len;

    if (hlen > SGN_SERIAL_MAX || verify_serial_bytes(x, serial, &serial_len) < 0)
        return false;
    while (skip < hlen && h->serial[skip] == 0)
        skip++;
    return hlen - skip == serial_len && memcmp(h->serial + skip, serial, serial_len) == 0;
}

/* The certificate's one CN as UTF-8 (caller frees with OPENSSL_free). Two CNs
 * would make the match ambiguous, so they are refused. */
static unsigned char *verify_cert_cn(X509 *x, int *cn_len)
{
    const X509_NAME *name = X509_get_subject_name(x);
    unsigned char *cn = NULL;
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

    if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
        return NULL;
    *cn_len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    if (*cn_len <= 0 || memchr(cn, '\0', (size_t)*cn_len) != NULL) {
        OPENSSL_free(cn);
        return NULL;
    }
    return cn;
}

static bool verify_is_separator(char c)
{
    return c == ';' || c == ',';
}

/* "CN=<cn>" as a whole attribute of the header's subject: at its start or after
 * a separator (and optional spaces), and followed by a separator or the end. */
static bool verify_subject_has_cn(const char *subject, size_t subject_len, const unsigned char *cn,
                                  size_t cn_len)
{
    for (size_t i = 0; i + 3 + cn_len <= subject_len; i++) {
        size_t j = i;
        size_t end = i + 3 + cn_len;

        while (j > 0 && subject[j - 1] == ' ')
            j--;
        if (j > 0 && !verify_is_separator(subject[j - 1]))
            continue;
        if (memcmp(subject + i, "CN=", 3) != 0 || memcmp(subject + i + 3, cn, cn_len) != 0)
            continue;
        if (end == subject_len || verify_is_separator(subject[end]))
            return true;
    }
    return false;
}

static bool verify_x509_is_signer(const struct sgn_header *h, X509 *x)
{
    unsigned char *cn = NULL;
    int cn_len = 0;
    bool ok = false;

    if (!verify_serial_matches(h, x))
        goto out;
    cn = verify_cert_cn(x, &cn_len);
    if (cn == NULL)
        goto out;
    ok = verify_subject_has_cn(h->subject, strnlen(h->subject, sizeof(h->subject)), cn,
                               (size_t)cn_len);
out:
    OPENSSL_free(cn);
    return ok;
}

bool verify_sgn_is_signer(const struct sgn_header *h, const char *cert_pem, size_t len)
{
    X509 *x = NULL;
    bool ok = false;

    if (h == NULL)
        goto out;
    x = verify_load_cert(cert_pem, len);
    if (x == NULL)
        goto out;
    ok = verify_x509_is_signer(h, x);
out:
    X509_free(x);
    ERR_clear_error();
    return ok;
}

static const EVP_MD *verify_sgn_md(enum sgn_hash hash)
{
    switch (hash) {
    case SGN_HASH_SHA1:
        return EVP_sha1();
    case SGN_HASH_SHA256:
        return EVP_sha256();
    case SGN_HASH_SHA512:
        return EVP_sha512();
    }
    return NULL;
}

/* What the header names must be exactly what the certificate's key can do. */
static int verify_sgn_supported(const struct sgn_header *h, X509 *x)
{
    int bits = verify_rsa_bits(x);
    size_t key_bytes;

    if (bits < 0)
        return VERIFY_BAD_CERT;
    key_bytes = ((size_t)bits + 7) / 8;
    if (h->algorithm != 0 || verify_sgn_md(h->hash) == NULL)
        return VERIFY_UNSUPPORTED;
    if (h->key_bytes != key_bytes || h->sig_len != key_bytes)
        return VERIFY_UNSUPPORTED;
    return VERIFY_OK;
}

/* Reads exactly n bytes at off; a short file is an I/O failure. */
static int verify_pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t got = pread(fd, buf + done, n - done, (off_t)(off + done));

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return VERIFY_IO;
        done += (size_t)got;
    }
    return VERIFY_OK;
}

/* Reads the tag-12 TLV; its tag and length must agree with the header struct. */
static int verify_read_sig(int fd, const struct sgn_header *h, uint8_t *tlv)
{
    int rc = verify_pread_full(fd, tlv, SGN_SIG_TLV_LEN + h->sig_len, h->sig_offset);

    if (rc != VERIFY_OK)
        return rc;
    if (tlv[0] != VERIFY_SIG_TAG || (((size_t)tlv[1] << 8) | tlv[2]) != h->sig_len)
        return VERIFY_BAD_SIGNATURE;
    return VERIFY_OK;
}

static int verify_digest_range(EVP_MD_CTX *mctx, int fd, uint8_t *buf, uint64_t start, uint64_t end)
{
    while (start < end) {
        size_t n = end - start > VERIFY_CHUNK ? VERIFY_CHUNK : (size_t)(end - start);
        int rc = verify_pread_full(fd, buf, n, start);

        if (rc != VERIFY_OK)
            return rc;
        if (EVP_DigestVerifyUpdate(mctx, buf, n) != 1)
            return VERIFY_BAD_SIGNATURE;
        start += n;
    }
    return VERIFY_OK;
}

static int verify_init_rsa(EVP_MD_CTX *mctx, const struct sgn_header *h, X509 *x)
{
    EVP_PKEY_CTX *pctx = NULL;

    /* A digest the library's policy refuses (SHA-1 on some systems) fails
     * here: reported as unsupported, never as a bad or good signature. */
    if (EVP_DigestVerifyInit(mctx, &pctx, verify_sgn_md(h->hash), NULL, X509_get0_pubkey(x)) != 1)
        return VERIFY_UNSUPPORTED;
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return VERIFY_UNSUPPORTED;
    return VERIFY_OK;
}

/* The signed object is the file minus [sig_offset, sig_offset + 3 + sig_len). */
static int verify_sgn_stream(int fd, uint64_t size, const struct sgn_header *h, X509 *x,
                             const uint8_t *sig)
{
    int rc = VERIFY_BAD_SIGNATURE;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    uint8_t *buf = malloc(VERIFY_CHUNK);
    uint64_t sig_end = (uint64_t)h->sig_offset + SGN_SIG_TLV_LEN + h->sig_len;

    if (mctx == NULL || buf == NULL)
        goto out;
    rc = verify_init_rsa(mctx, h, x);
    if (rc != VERIFY_OK)
        goto out;
    rc = verify_digest_range(mctx, fd, buf, 0, h->sig_offset);
    if (rc != VERIFY_OK)
        goto out;
    rc = verify_digest_range(mctx, fd, buf, sig_end, size);
    if (rc != VERIFY_OK)
        goto out;
    rc = EVP_DigestVerifyFinal(mctx, sig, h->sig_len) == 1 ? VERIFY_OK : VERIFY_BAD_SIGNATURE;
out:
    free(buf);
    EVP_MD_CTX_free(mctx);
    return rc;
}

static bool verify_sig_fits(uint64_t size, const struct sgn_header *h)
{
    if (h->sig_len == 0 || h->sig_len > 0xffff || h->sig_offset > SGN_HEADER_MAX)
        return false;
    return (uint64_t)h->sig_offset + SGN_SIG_TLV_LEN + h->sig_len <= size;
}

int verify_sgn_signature(int fd, uint64_t size, const struct sgn_header *h, const char *cert_pem,
                         size_t len)
{
    int rc = VERIFY_BAD_CERT;
    X509 *x = NULL;
    uint8_t *tlv = NULL;

    if (h == NULL)
        goto out;
    x = verify_load_rsa_cert(cert_pem, len);
    if (x == NULL)
        goto out;
    rc = VERIFY_NOT_SIGNER;
    if (!verify_x509_is_signer(h, x))
        goto out;
    rc = verify_sgn_supported(h, x);
    if (rc != VERIFY_OK)
        goto out;
    rc = VERIFY_BAD_SIGNATURE;
    if (fd < 0 || !verify_sig_fits(size, h))
        goto out;
    tlv = malloc(SGN_SIG_TLV_LEN + h->sig_len);
    if (tlv == NULL)
        goto out;
    rc = verify_read_sig(fd, h, tlv);
    if (rc != VERIFY_OK)
        goto out;
    rc = verify_sgn_stream(fd, size, h, x, tlv + SGN_SIG_TLV_LEN);
out:
    free(tlv);
    X509_free(x);
    ERR_clear_error();
    return rc;
}

/* A detached SignedData, DER, with no bytes after it. */
static CMS_ContentInfo *verify_load_cms(const uint8_t *sig, size_t sig_len)
{
    CMS_ContentInfo *cms = NULL;
    BIO *bio = NULL;

    if (sig == NULL || sig_len == 0 || sig_len > VERIFY_CMS_MAX)
        goto out;
    bio = BIO_new_mem_buf(sig, (int)sig_len);
    if (bio == NULL)
        goto out;
    cms = d2i_CMS_bio(bio, NULL);
    if (cms == NULL)
        goto out;
    if (BIO_pending(bio) != 0 || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
        CMS_is_detached(cms) != 1) {
        CMS_ContentInfo_free(cms);
        cms = NULL;
    }
out:
    BIO_free(bio);
    return cms;
}

/* The approval certificates as a trust store (each one trusted by itself,
 * for any purpose: vendor certificates carry no S/MIME key usage) and as a
 * stack for signatures that do not embed their certificate. */
static int verify_approval_store(const char *const *pems, size_t n, X509_STORE *store,
                                 STACK_OF(X509) * certs)
{
    if (X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
        X509_STORE_set_purpose(store, X509_PURPOSE_ANY) != 1)
        return VERIFY_BAD_CERT;
    for (size_t i = 0; i < n; i++) {
        size_t len = pems[i] == NULL ? 0 : strnlen(pems[i], VERIFY_PEM_MAX + 1);
        X509 *x = verify_load_rsa_cert(pems[i], len);

        if (x == NULL)
            return VERIFY_BAD_CERT;
        if (X509_STORE_add_cert(store, x) != 1 || sk_X509_push(certs, x) <= 0) {
            X509_free(x);
            return VERIFY_BAD_CERT;
        }
    }
    return VERIFY_OK;
}

/* Why CMS_verify failed: the signer's certificate not trusted, or the bytes. */
static int verify_cms_failure(void)
{
    unsigned long e;
    int rc = VERIFY_BAD_SIGNATURE;

    while ((e = ERR_get_error()) != 0) {
        if (ERR_GET_LIB(e) != ERR_LIB_CMS)
            continue;
        if (ERR_GET_REASON(e) == CMS_R_CERTIFICATE_VERIFY_ERROR ||
            ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND)
            rc = VERIFY_NOT_SIGNER;
    }
    return rc;
}

static bool verify_certs_contain(STACK_OF(X509) * certs, const X509 *x)
{
    for (int i = 0; i < sk_X509_num(certs); i++) {
        if (X509_cmp(sk_X509_value(certs, i), x) == 0)
            return true;
    }
    return false;
}

/* Each signer must be one of the approval certificates itself, not merely a
 * certificate one of them issued: an approval is a person's own key. */
static int verify_cms_signers(CMS_ContentInfo *cms, STACK_OF(X509) * certs, char *signer,
                              size_t cap, char *signer_sha256)
{
    int rc = VERIFY_NOT_SIGNER;
    STACK_OF(X509) *signers = CMS_get0_signers(cms);
    int n = signers == NULL ? 0 : sk_X509_num(signers);

    if (n <= 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if (!verify_certs_contain(certs, sk_X509_value(signers, i)))
            goto out;
    }
    rc = VERIFY_OK;
    if (signer != NULL && cap > 0 &&
        verify_name_text(X509_get_subject_name(sk_X509_value(signers, 0)), signer, cap) < 0)
        rc = VERIFY_BAD_CERT;
    if (rc == VERIFY_OK && signer_sha256 != NULL &&
        verify_fingerprint(sk_X509_value(signers, 0), signer_sha256) < 0)
        rc = VERIFY_BAD_CERT;
out:
    sk_X509_free(signers);
    return rc;
}

int verify_cms_detached(const char *bundle_path, const uint8_t *sig, size_t sig_len,
                        const char *const *approval_pems, size_t n_pems, char *signer, size_t cap,
                        char *signer_sha256)
{
    int rc = VERIFY_NOT_SIGNER;
    CMS_ContentInfo *cms = NULL;
    X509_STORE *store = NULL;
    STACK_OF(X509) *certs = sk_X509_new_null();
    BIO *content = NULL;

    ERR_clear_error();
    if (signer != NULL && cap > 0)
        signer[0] = '\0';
    if (approval_pems == NULL || n_pems == 0 || certs == NULL)
        goto out;
    rc = VERIFY_BAD_SIGNATURE;
    cms = verify_load_cms(sig, sig_len);
    if (cms == NULL)
        goto out;
    rc = VERIFY_BAD_CERT;
    store = X509_STORE_new();
    if (store == NULL)
        goto out;
    rc = verify_approval_store(approval_pems, n_pems, store, certs);
    if (rc != VERIFY_OK)
        goto out;
    rc = VERIFY_IO;
    content = bundle_path == NULL ? NULL : BIO_new_file(bundle_path, "rb");
    if (content == NULL)
        goto out;
    if (CMS_verify(cms, certs, store, content, NULL, CMS_BINARY) != 1) {
        rc = verify_cms_failure();
        goto out;
    }
    rc = verify_cms_signers(cms, certs, signer, cap, signer_sha256);
out:
    if (rc != VERIFY_OK && signer != NULL && cap > 0)
        signer[0] = '\0';
    if (rc != VERIFY_OK && signer_sha256 != NULL)
        signer_sha256[0] = '\0';
    BIO_free(content);
    X509_STORE_free(store);
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return rc;
}

const char *verify_strerror(int result)
{
    switch (result) {
    case VERIFY_OK:
        return "signature verified";
    case VERIFY_BAD_CERT:
        return "not an accepted certificate (PEM X.509 with an RSA key of 1024 to 4096 bits)";
    case VERIFY_NOT_SIGNER:
        return "the certificate is not the signer";
    case VERIFY_BAD_SIGNATURE:
        return "the signature does not verify";
    case VERIFY_UNSUPPORTED:
        return "unsupported signature algorithm, hash or key size";
    case VERIFY_IO:
        return "reading the file failed";
    }
    return "unknown verification result";
}
