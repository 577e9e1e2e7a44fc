/* sgn.c: parser of the vendor signature header (shared/design/sgn-format.md).
 * A pure function of the bytes it is given: no files, no crypto, no allocation,
 * never reads past len nor past the header length the file declares. */
#include "server/firmware/sgn.h"

#include <string.h>

#include "lib/text.h"

/* Tags of the header (sgn-format.md, "Layout"). */
enum {
    SGN_TAG_VERSION = 1,
    SGN_TAG_HEADER_LEN = 2,
    SGN_TAG_SIGNER = 3, /* container: 4, 5, 6 */
    SGN_TAG_SUBJECT = 4,
    SGN_TAG_SERIAL = 5,
    SGN_TAG_ISSUER = 6,
    SGN_TAG_SIG_INFO = 7, /* container: 8, 9 */
    SGN_TAG_HASH = 8,
    SGN_TAG_SIG_ALG = 9, /* container: 10, 11 */
    SGN_TAG_ALGORITHM = 10,
    SGN_TAG_KEY_SIZE = 11,
    SGN_TAG_SIGNATURE = 12,
    SGN_TAG_PADDING = 13, /* one byte, no length */
    SGN_TAG_FILENAME = 14,
    SGN_TAG_TIMESTAMP = 15,
    SGN_TAG_SIGNER_VERSION = 28,
};

#define SGN_TLV_HEAD   3  /* tag byte + 16-bit length */
#define SGN_FIXED_HEAD 10 /* tag 1 and tag 2, each 3 + 2 bytes */
#define SGN_NEST_MAX   3  /* containers 3, 7, 9 may each appear once */

/* Key sizes in bytes, indexed by the value of tag 11. */
static const uint32_t sgn_key_sizes[] = {64, 128, 256, 512};

/* Walking state: position, open containers, tags already seen. */
struct sgn_cursor {
    const uint8_t *buf;
    size_t pos;
    size_t end; /* header_len */
    size_t nest_end[SGN_NEST_MAX];
    unsigned depth;
    uint32_t seen; /* bit per tag (all tags are < 32) */
    const char *why;
};

/* One TLV as read at the cursor. */
struct sgn_tlv {
    uint8_t tag;
    size_t offset; /* of the tag byte */
    size_t len;
    const uint8_t *value;
};

static unsigned sgn_be16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t sgn_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t sgn_tag_bit(uint8_t tag)
{
    return (uint32_t)1 << tag;
}

bool sgn_probe(const uint8_t *buf, size_t len)
{
    if (buf == NULL || len < 8)
        return false;
    return buf[0] == SGN_TAG_VERSION && sgn_be16(buf + 1) == 2 && buf[5] == SGN_TAG_HEADER_LEN &&
           sgn_be16(buf + 6) == 2;
}

const char *sgn_hash_name(enum sgn_hash h)
{
    switch (h) {
    case SGN_HASH_SHA1:
        return "sha1";
    case SGN_HASH_SHA256:
        return "sha256";
    case SGN_HASH_SHA512:
        return "sha512";
    }
    return "unknown";
}

static int sgn_fail(struct sgn_cursor *c, int rc, const char *why)
{
    c->why = why;
    return rc;
}

/* The limit the next item must end within: the innermost open container, or
 * the header length. */
static size_t sgn_limit(const struct sgn_cursor *c)
{
    return c->depth > 0 ? c->nest_end[c->depth - 1] : c->end;
}

/* Closes every container whose children end exactly here. */
static void sgn_close_containers(struct sgn_cursor *c)
{
    while (c->depth > 0 && c->nest_end[c->depth - 1] == c->pos)
        c->depth--;
}

static int sgn_read_tlv(struct sgn_cursor *c, struct sgn_tlv *t)
{
    size_t limit = sgn_limit(c);
    const char *why = c->depth > 0 ? "a field runs past the end of its container"
                                   : "a field runs past the header length";

    if (limit - c->pos < SGN_TLV_HEAD)
        return sgn_fail(c, SGN_BAD_LENGTH, why);
    t->tag = c->buf[c->pos];
    t->offset = c->pos;
    t->len = sgn_be16(c->buf + c->pos + 1);
    t->value = c->buf + c->pos + SGN_TLV_HEAD;
    if (t->len > limit - c->pos - SGN_TLV_HEAD)
        return sgn_fail(c, SGN_BAD_LENGTH, why);
    return SGN_OK;
}

static bool sgn_tag_known(uint8_t tag)
{
    return (tag >= SGN_TAG_VERSION && tag <= SGN_TAG_TIMESTAMP) || tag == SGN_TAG_SIGNER_VERSION;
}

/* Copies a NUL-terminated text value (tags 4, 6, 14). */
static int sgn_take_text(struct sgn_cursor *c, const struct sgn_tlv *t, char *dst,
                         const char *why_no_nul, const char *why_long)
{
    const uint8_t *nul = memchr(t->value, 0, t->len);
    size_t n;

    if (nul == NULL)
        return sgn_fail(c, SGN_BAD_VALUE, why_no_nul);
    n = (size_t)(nul - t->value);
    if (n >= SGN_TEXT_MAX)
        return sgn_fail(c, SGN_BAD_VALUE, why_long);
    /* These names reach reports, the API and the web page. */
    if (!text_valid((const char *)t->value, n))
        return sgn_fail(c, SGN_BAD_VALUE, "a name is not UTF-8 text, or has a control character");
    memcpy(dst, t->value, n);
    dst[n] = '\0';
    return SGN_OK;
}

static int sgn_want_len(struct sgn_cursor *c, const struct sgn_tlv *t, size_t len, const char *why)
{
    if (t->len != len)
        return sgn_fail(c, SGN_BAD_LENGTH, why);
    return SGN_OK;
}

static int sgn_open_container(struct sgn_cursor *c, const struct sgn_tlv *t)
{
    if (c->depth >= SGN_NEST_MAX)
        return sgn_fail(c, SGN_BAD_VALUE, "containers nested too deep");
    c->nest_end[c->depth++] = t->offset + SGN_TLV_HEAD + t->len;
    c->pos = t->offset + SGN_TLV_HEAD; /* straight into the children */
    return SGN_OK;
}

static int sgn_take_serial(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    if (t->len > SGN_SERIAL_MAX)
        return sgn_fail(c, SGN_BAD_LENGTH, "signer serial number too long");
    memcpy(h->serial, t->value, t->len);
    h->serial_len = t->len;
    return SGN_OK;
}

static int sgn_take_hash(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    int rc = sgn_want_len(c, t, 1, "hash algorithm field has the wrong length");

    if (rc != SGN_OK)
        return rc;
    if (t->value[0] < SGN_HASH_SHA1 || t->value[0] > SGN_HASH_SHA512)
        return sgn_fail(c, SGN_BAD_VALUE, "unknown hash algorithm");
    h->hash = (enum sgn_hash)t->value[0];
    return SGN_OK;
}

static int sgn_take_algorithm(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    int rc = sgn_want_len(c, t, 1, "signature algorithm field has the wrong length");

    if (rc != SGN_OK)
        return rc;
    if (t->value[0] != 0)
        return sgn_fail(c, SGN_BAD_VALUE, "signature algorithm is not RSA");
    h->algorithm = t->value[0];
    return SGN_OK;
}

static int sgn_take_key_size(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    int rc = sgn_want_len(c, t, 1, "key size field has the wrong length");

    if (rc != SGN_OK)
        return rc;
    if (t->value[0] >= sizeof(sgn_key_sizes) / sizeof(sgn_key_sizes[0]))
        return sgn_fail(c, SGN_BAD_VALUE, "unknown key size");
    h->key_bytes = sgn_key_sizes[t->value[0]];
    return SGN_OK;
}

static int sgn_take_timestamp(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    int rc = sgn_want_len(c, t, 4, "timestamp field has the wrong length");

    if (rc != SGN_OK)
        return rc;
    h->has_timestamp = true;
    h->timestamp = sgn_be32(t->value);
    return SGN_OK;
}

static int sgn_take_signer_version(struct sgn_cursor *c, const struct sgn_tlv *t,
                                   struct sgn_header *h)
{
    int rc;

    if (t->offset != SGN_FIXED_HEAD)
        return sgn_fail(c, SGN_BAD_TAG, "signer version is not right after the header length");
    rc = sgn_want_len(c, t, 2, "signer version field has the wrong length");
    if (rc != SGN_OK)
        return rc;
    h->has_signer_version = true;
    h->signer_version = (uint16_t)sgn_be16(t->value);
    return SGN_OK;
}

static int sgn_take_signature(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    (void)c;
    h->sig_offset = t->offset;
    h->sig_len = t->len;
    return SGN_OK;
}

/* Applies one leaf field (containers and padding are handled by the caller). */
static int sgn_take_field(struct sgn_cursor *c, const struct sgn_tlv *t, struct sgn_header *h)
{
    switch (t->tag) {
    case SGN_TAG_SUBJECT:
        return sgn_take_text(c, t, h->subject, "signer subject is not NUL-terminated",
                             "signer subject too long");
    case SGN_TAG_SERIAL:
        return sgn_take_serial(c, t, h);
    case SGN_TAG_ISSUER:
        return sgn_take_text(c, t, h->issuer, "issuer name is not NUL-terminated",
                             "issuer name too long");
    case SGN_TAG_HASH:
        return sgn_take_hash(c, t, h);
    case SGN_TAG_ALGORITHM:
        return sgn_take_algorithm(c, t, h);
    case SGN_TAG_KEY_SIZE:
        return sgn_take_key_size(c, t, h);
    case SGN_TAG_SIGNATURE:
        return sgn_take_signature(c, t, h);
    case SGN_TAG_FILENAME:
        return sgn_take_text(c, t, h->filename, "file name is not NUL-terminated",
                             "file name too long");
    case SGN_TAG_TIMESTAMP:
        return sgn_take_timestamp(c, t, h);
    case SGN_TAG_SIGNER_VERSION:
        return sgn_take_signer_version(c, t, h);
    default: /* tags 1 and 2 again: caught as duplicates before */
        return sgn_fail(c, SGN_BAD_TAG, "version or header length repeated");
    }
}

/* Reads the item at the cursor and advances past it (or into it, for a container). */
static int sgn_step(struct sgn_cursor *c, struct sgn_header *h)
{
    struct sgn_tlv t;
    uint8_t tag = c->buf[c->pos];
    int rc;

    if (tag == SGN_TAG_PADDING) {
        c->pos++; /* the limit is > pos here, so the byte fits */
        return SGN_OK;
    }
    if (!sgn_tag_known(tag))
        return sgn_fail(c, SGN_BAD_TAG, "unknown field tag");
    if (c->seen & sgn_tag_bit(tag))
        return sgn_fail(c, SGN_BAD_VALUE, "a field appears twice");
    c->seen |= sgn_tag_bit(tag);
    rc = sgn_read_tlv(c, &t);
    if (rc != SGN_OK)
        return rc;
    if (tag == SGN_TAG_SIGNER || tag == SGN_TAG_SIG_INFO || tag == SGN_TAG_SIG_ALG)
        return sgn_open_container(c, &t);
    rc = sgn_take_field(c, &t, h);
    if (rc == SGN_OK)
        c->pos = t.offset + SGN_TLV_HEAD + t.len;
    return rc;
}

/* Tags 1 and 2 at fixed places, then the header length against the file. */
static int sgn_parse_fixed(struct sgn_cursor *c, size_t avail, uint64_t file_size,
                           struct sgn_header *h)
{
    static const uint8_t lead[8] = {SGN_TAG_VERSION, 0, 2, 0, 0, SGN_TAG_HEADER_LEN, 0, 2};
    static const bool lead_fixed[8] = {true, true, true, false, false, true, true, true};
    unsigned header_len;

    for (size_t i = 0; i < sizeof(lead) && i < avail; i++)
        if (lead_fixed[i] && c->buf[i] != lead[i])
            return sgn_fail(c, SGN_NOT_SGN, "no signed header (version and length fields)");
    if (avail < SGN_FIXED_HEAD)
        return sgn_fail(c, SGN_TRUNCATED, "file ends inside the signed header");
    h->version_major = c->buf[3];
    h->version_minor = c->buf[4];
    if (h->version_major != 1)
        return sgn_fail(c, SGN_BAD_VALUE, "unsupported header version");
    header_len = sgn_be16(c->buf + 8);
    h->header_len = (uint16_t)header_len;
    if (header_len % 4 != 0)
        return sgn_fail(c, SGN_BAD_LENGTH, "header length is not a multiple of 4");
    if (header_len < SGN_FIXED_HEAD)
        return sgn_fail(c, SGN_BAD_LENGTH, "header length too small");
    if (header_len > file_size)
        return sgn_fail(c, SGN_TRUNCATED, "header length runs past the end of the file");
    if (header_len > avail)
        return sgn_fail(c, SGN_TRUNCATED, "file ends inside the signed header");
    c->seen = sgn_tag_bit(SGN_TAG_VERSION) | sgn_tag_bit(SGN_TAG_HEADER_LEN);
    c->pos = SGN_FIXED_HEAD;
    c->end = header_len;
    return SGN_OK;
}

static int sgn_check_required(struct sgn_cursor *c, const struct sgn_header *h)
{
    static const struct {
        uint8_t tag;
        const char *why;
    } required[] = {
        {SGN_TAG_SUBJECT, "signer subject missing"},
        {SGN_TAG_HASH, "hash algorithm missing"},
        {SGN_TAG_ALGORITHM, "signature algorithm missing"},
        {SGN_TAG_KEY_SIZE, "key size missing"},
        {SGN_TAG_SIGNATURE, "signature missing"},
        {SGN_TAG_FILENAME, "file name missing"},
    };

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!(c->seen & sgn_tag_bit(required[i].tag)))
            return sgn_fail(c, SGN_MISSING, required[i].why);
    if (h->filename[0] == '\0')
        return sgn_fail(c, SGN_BAD_VALUE, "file name is empty");
    if (h->sig_len != h->key_bytes)
        return sgn_fail(c, SGN_BAD_LENGTH, "signature length does not match key size");
    return SGN_OK;
}

int sgn_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct sgn_header *out,
              const char **why)
{
    struct sgn_cursor c = {.buf = buf, .why = "no signed header"};
    size_t avail = len < file_size ? len : (size_t)file_size;
    int rc = SGN_NOT_SGN;

    memset(out, 0, sizeof(*out));
    if (buf == NULL)
        goto out;
    rc = sgn_parse_fixed(&c, avail, file_size, out);
    /* pos grows by at least one byte per step and stops at the header length */
    while (rc == SGN_OK && c.pos < c.end) {
        rc = sgn_step(&c, out);
        if (rc == SGN_OK)
            sgn_close_containers(&c);
    }
    if (rc == SGN_OK)
        rc = sgn_check_required(&c, out);
out:
    if (why != NULL)
        *why = rc == SGN_OK ? NULL : c.why;
    return rc;
}
