/* sgn.h: the vendor signature header on .loads, .sbn, .sgn and .cop.sgn files
 * (shared/design/sgn-format.md). Pure parsing of bytes: no files, no crypto. */
#ifndef LOADSD_SGN_H
#define LOADSD_SGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SGN_HEADER_MAX  65535 /* tag 2 is a 16-bit length */
#define SGN_TEXT_MAX    256   /* subject, issuer, file name (NUL included) */
#define SGN_SERIAL_MAX  64
#define SGN_SIG_TLV_LEN 3 /* tag 12: 1 byte tag + 2 bytes length before the value */

enum sgn_hash { SGN_HASH_SHA1 = 1, SGN_HASH_SHA256 = 2, SGN_HASH_SHA512 = 3 };

enum sgn_result {
    SGN_OK = 0,
    SGN_NOT_SGN = -1,    /* does not start with tag 1 (version) then tag 2 (length) */
    SGN_TRUNCATED = -2,  /* the buffer or file ends inside the header */
    SGN_BAD_TAG = -3,    /* an unknown tag */
    SGN_BAD_LENGTH = -4, /* a length that runs past the header or does not fit its tag */
    SGN_BAD_VALUE =
        -5, /* a value out of range (hash, algorithm, key size, text not NUL-terminated) */
    SGN_MISSING = -6, /* a required field (signer, hash, signature, file name) is absent */
};

struct sgn_header {
    uint8_t version_major, version_minor;
    uint16_t header_len; /* the payload starts here */
    bool has_signer_version;
    uint16_t signer_version;
    char subject[SGN_TEXT_MAX];
    char issuer[SGN_TEXT_MAX];
    uint8_t serial[SGN_SERIAL_MAX];
    size_t serial_len;
    enum sgn_hash hash;
    uint8_t algorithm;  /* 0 = RSA */
    uint32_t key_bytes; /* 64, 128, 256 or 512 */
    size_t sig_offset;  /* offset of the tag-12 TLV (its tag byte) */
    size_t sig_len;     /* length of the signature value */
    char filename[SGN_TEXT_MAX];
    bool has_timestamp;
    uint32_t timestamp;
};

/* True when buf starts like a signed header (tag 1, length 2, tag 2, length 2). */
bool sgn_probe(const uint8_t *buf, size_t len);

/* Parses the header at the start of buf (len bytes available, at least
 * min(file_size, SGN_HEADER_MAX) for a complete answer) of a file of
 * file_size bytes. On error *why says what, in words for an import report. */
int sgn_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct sgn_header *out,
              const char **why);

/* Name of a hash for reports: "sha1", "sha256", "sha512". */
const char *sgn_hash_name(enum sgn_hash h);

#endif
