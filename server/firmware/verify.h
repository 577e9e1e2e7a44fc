/* verify.h: signature checks with OpenSSL libcrypto: the RSA signature inside
 * a signed header, and a detached CMS approval signature over a whole bundle.
 * Fail closed: anything unexpected is a failure. Never touches the database. */
#ifndef LOADSD_VERIFY_H
#define LOADSD_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sizes.h"
#include "server/firmware/sgn.h"

#define VERIFY_TEXT_MAX 256
#define VERIFY_PEM_MAX  (64 * 1024)

enum verify_result {
    VERIFY_OK = 0,
    VERIFY_BAD_CERT = -1,      /* not a PEM X.509 certificate we accept (RSA, 1024-4096 bits) */
    VERIFY_NOT_SIGNER = -2,    /* this certificate is not the header's signer */
    VERIFY_BAD_SIGNATURE = -3, /* the signature does not verify */
    VERIFY_UNSUPPORTED = -4,   /* algorithm or key size the header names is not supported */
    VERIFY_IO = -5,            /* reading the file failed */
};

/* What the trust store keeps about a certificate. */
struct verify_cert_info {
    char subject[VERIFY_TEXT_MAX]; /* one line, e.g. "CN=Test Vendor Signer,O=..." */
    char issuer[VERIFY_TEXT_MAX];
    char serial_hex[2 * SGN_SERIAL_MAX + 1]; /* lower-case, no leading zero bytes */
    char sha256_hex[SHA256_HEX_BUF];         /* fingerprint of the DER */
    int64_t not_before, not_after;           /* Unix time */
    unsigned key_bits;
};

/* Parses one PEM certificate (at most VERIFY_PEM_MAX bytes). */
int verify_cert_info(const char *pem, size_t len, struct verify_cert_info *out);

/* True when cert_pem names the header's signer: same serial number, and its
 * subject CN appears in the header's subject (the header's text format varies). */
bool verify_sgn_is_signer(const struct sgn_header *h, const char *cert_pem, size_t len);

/* Checks the header's RSA PKCS#1 v1.5 signature over the file read from fd
 * (size bytes, read with pread from offset 0, streamed: constant memory):
 * the signed object is the whole file without the tag-12 TLV. */
int verify_sgn_signature(int fd, uint64_t size, const struct sgn_header *h, const char *cert_pem,
                         size_t len);

/* Checks a detached DER CMS signature (sig, sig_len) over the file at
 * bundle_path (streamed) against the approval certificates (each PEM), which
 * are trusted as they are (no chain needed). On success writes the signer's
 * subject to signer (cap bytes) and, when signer_sha256 is not NULL, the
 * SHA-256 fingerprint of its certificate there (65 bytes, lower-case hex). */
int verify_cms_detached(const char *bundle_path, const uint8_t *sig, size_t sig_len,
                        const char *const *approval_pems, size_t n_pems, char *signer, size_t cap,
                        char *signer_sha256);

/* Short English text for a result, for reports. */
const char *verify_strerror(int result);

#endif
