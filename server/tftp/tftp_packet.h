/* tftp_packet.h: the TFTP wire codec (RFC 1350, 2347, 2348, 2349, 7440).
 * Pure functions of bytes: no sockets, no globals, no allocation. */
#ifndef LOADSD_TFTP_PACKET_H
#define LOADSD_TFTP_PACKET_H

#include <stddef.h>
#include <stdint.h>

enum tftp_opcode {
    TFTP_OP_RRQ = 1,
    TFTP_OP_WRQ = 2,
    TFTP_OP_DATA = 3,
    TFTP_OP_ACK = 4,
    TFTP_OP_ERROR = 5,
    TFTP_OP_OACK = 6,
};

/* Error codes on the wire (RFC 1350 section 5, RFC 2347 for 8). */
enum tftp_error_code {
    TFTP_ERR_UNDEFINED = 0,
    TFTP_ERR_NOT_FOUND = 1,
    TFTP_ERR_ACCESS = 2,
    TFTP_ERR_DISK_FULL = 3,
    TFTP_ERR_ILLEGAL_OP = 4,
    TFTP_ERR_UNKNOWN_TID = 5,
    TFTP_ERR_EXISTS = 6,
    TFTP_ERR_NO_USER = 7,
    TFTP_ERR_OPTION = 8,
};

enum tftp_mode { TFTP_MODE_OCTET, TFTP_MODE_NETASCII };

/* RFC 2347: a request, options included, fits in 512 bytes. */
#define TFTP_REQUEST_MAX     512
#define TFTP_HEADER_LEN      4
#define TFTP_BLKSIZE_DEFAULT 512
#define TFTP_BLKSIZE_MIN     8     /* RFC 2348 */
#define TFTP_BLKSIZE_MAX     65464 /* RFC 2348 */
#define TFTP_TIMEOUT_MIN     1     /* RFC 2349, seconds */
#define TFTP_TIMEOUT_MAX     255
#define TFTP_WINDOW_MIN      1 /* RFC 7440 */
#define TFTP_WINDOW_MAX      65535
#define TFTP_TSIZE_MAX       UINT64_C(0xffffffffffff) /* 256 TiB: far past any firmware */
#define TFTP_DATAGRAM_MAX    (TFTP_HEADER_LEN + TFTP_BLKSIZE_MAX)
#define TFTP_ERRMSG_MAX      128 /* longest message text we send or keep */

/* Option bits in tftp_options.present. */
enum {
    TFTP_OPT_BLKSIZE = 1u << 0,
    TFTP_OPT_TIMEOUT = 1u << 1,
    TFTP_OPT_TSIZE = 1u << 2,
    TFTP_OPT_WINDOWSIZE = 1u << 3,
};

struct tftp_options {
    unsigned present; /* TFTP_OPT_* bits */
    uint32_t blksize; /* as asked; may exceed TFTP_BLKSIZE_MAX (clamped on answer) */
    uint32_t timeout;
    uint32_t windowsize;
    uint64_t tsize;
};

/* Codec results: 0 or one of these (negative). wire_error.c maps each to the
 * ERROR code and text a peer gets (tftp_failure_of_parse). */
enum tftp_parse_result {
    TFTP_PARSE_OK = 0,
    TFTP_PARSE_TRUNCATED = -1,  /* shorter than its opcode needs, or a missing NUL */
    TFTP_PARSE_TOO_LONG = -2,   /* request over TFTP_REQUEST_MAX */
    TFTP_PARSE_BAD_OPCODE = -3, /* opcode not valid here */
    TFTP_PARSE_BAD_MODE = -4,   /* mode other than octet/netascii */
    TFTP_PARSE_EMPTY_NAME = -5, /* file name is empty */
    TFTP_PARSE_BAD_OPTION = -6, /* a known option with a malformed or out-of-range value */
    TFTP_PARSE_DUP_OPTION = -7, /* the same option twice */
    TFTP_PARSE_NO_SPACE = -8,   /* (builders) output buffer too small */
};

struct tftp_request {
    enum tftp_opcode op; /* TFTP_OP_RRQ or TFTP_OP_WRQ */
    enum tftp_mode mode;
    const char *filename; /* points into the caller's buffer, NUL-terminated there */
    size_t filename_len;
    struct tftp_options opts;
};

/* A packet a server receives on a transfer socket, or a client on its own. */
struct tftp_packet {
    enum tftp_opcode op;
    uint16_t block;      /* DATA, ACK */
    const uint8_t *data; /* DATA payload */
    size_t data_len;
    uint16_t error_code;             /* ERROR */
    char error_msg[TFTP_ERRMSG_MAX]; /* ERROR, NUL-terminated, may be truncated */
    struct tftp_options opts;        /* OACK */
};

/* Parses an RRQ or WRQ. buf must stay alive while req->filename is used;
 * the parser writes nothing to it. Unknown options are ignored (RFC 2347). */
int tftp_packet_parse_request(const uint8_t *buf, size_t len, struct tftp_request *req);

/* Parses DATA, ACK, ERROR or OACK (an RRQ/WRQ here is TFTP_PARSE_BAD_OPCODE). */
int tftp_packet_parse(const uint8_t *buf, size_t len, struct tftp_packet *pkt);

/* Builders return the packet length, or TFTP_PARSE_NO_SPACE. */
int tftp_packet_build_request(uint8_t *buf, size_t cap, enum tftp_opcode op, const char *filename,
                              enum tftp_mode mode, const struct tftp_options *opts);
int tftp_packet_build_oack(uint8_t *buf, size_t cap, const struct tftp_options *opts);
int tftp_packet_build_error(uint8_t *buf, size_t cap, uint16_t code, const char *msg);
int tftp_packet_build_ack(uint8_t *buf, size_t cap, uint16_t block);
/* Writes the 4-byte DATA header; the payload follows it on the wire. */
void tftp_packet_data_header(uint8_t hdr[TFTP_HEADER_LEN], uint16_t block);

/* The opcode of a datagram (its first two bytes), 0 when it is shorter. */
uint16_t tftp_packet_opcode(const uint8_t *buf, size_t len);

/* Netascii (RFC 764 via RFC 1350): LF -> CR LF, CR -> CR NUL, each byte on its
 * own, so encoding can stop and resume at any byte. dst needs 2 * len bytes at
 * most; returns the bytes written. */
size_t tftp_netascii_encode(const uint8_t *src, size_t len, uint8_t *dst);
/* Size after netascii encoding, for a tsize or a buffer. */
uint64_t tftp_netascii_size(const uint8_t *src, size_t len);

#endif
