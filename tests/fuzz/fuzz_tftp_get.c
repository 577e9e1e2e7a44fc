/* fuzz_tftp_get.c: libFuzzer target for the branch's TFTP read state machine
 * (server/upstream/tftp_get.c): the input is a script of datagrams and clock
 * ticks. Checks that bytes are kept in order, never past the size limit or
 * the blksize in force, that what it sends is a well-formed ACK, ERROR or the
 * RRQ, and that an end is final; must not touch sockets or files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/upstream/tftp_get.h"

#define FUZZ_TFTP_GET_MAX_BYTES 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_tftp_get_check_send(const struct tftp_get_action *a)
{
    struct tftp_packet pkt;
    uint16_t op;

    if (a->send_len == 0)
        return;
    op = tftp_packet_opcode(a->send, a->send_len);
    if (op == TFTP_OP_RRQ)
        return;
    if ((op != TFTP_OP_ACK && op != TFTP_OP_ERROR) ||
        tftp_packet_parse(a->send, a->send_len, &pkt) != TFTP_PARSE_OK)
        abort();
}

/* One event: the first byte picks a tick (high bit set) or a datagram of
 * the next (byte & 0x7f) bytes, from the server's port or a stranger's. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tftp_get_params p;
    struct tftp_get g;
    struct tftp_get_action a;
    uint64_t kept = 0;
    int64_t now = 0;
    size_t pos = 2;
    int rc;

    if (size < 2)
        return 0;
    tftp_get_params_default(&p, FUZZ_TFTP_GET_MAX_BYTES);
    p.blksize = 8 + data[0] * 4;
    p.windowsize = 1 + data[1] % TFTP_GET_WINDOW_MAX;
    rc = tftp_get_start(&g, &p, "fuzz.bin", now, &a);
    while (pos < size && rc == TFTP_GET_GOING) {
        uint8_t head = data[pos++];
        size_t n = head & 0x3f;

        if (head & 0x80) {
            now += 1 + (head & 0x7f) * 100;
            rc = tftp_get_on_timer(&g, now, &a);
        } else {
            n = n < size - pos ? n : size - pos;
            rc = tftp_get_on_packet(&g, data + pos, n, head & 0x40 ? 7 : 69, now, &a);
            pos += n;
        }
        if (a.data_len > 0 && (a.data_off != kept || a.data_len > g.blksize))
            abort();
        kept += a.data_len;
        /* Without an OACK the block is RFC 1350's 512, whatever was asked. */
        if (kept > FUZZ_TFTP_GET_MAX_BYTES || kept != g.bytes ||
            (g.blksize > p.blksize && g.blksize != TFTP_BLKSIZE_DEFAULT) ||
            g.windowsize > p.windowsize)
            abort();
        fuzz_tftp_get_check_send(&a);
    }
    if (rc != TFTP_GET_GOING &&
        (g.state != TFTP_GET_END || tftp_get_on_timer(&g, now + 100000, &a) != rc || a.send_len))
        abort();
    for (const char *c = g.why; *c != '\0'; c++)
        if (*c < 0x20 || *c > 0x7e)
            abort();
    return 0;
}
