/* wire_error.h: the one mapping from a failure to the TFTP ERROR code and
 * text a client receives: one table, indexed by enum tftp_failure.
 * Pure: never touches a socket, never logs, never decides when to send. */
#ifndef LOADSD_WIRE_ERROR_H
#define LOADSD_WIRE_ERROR_H

#include <stdbool.h>
#include <stdint.h>

/* Every reason the server answers with an ERROR. The codec's parse results
 * and the resolver's results map onto these; so do the session's and
 * admission's decisions. */
enum tftp_failure {
    TFTP_FAIL_NONE = 0, /* no ERROR to send */
    /* A request that does not parse (tftp_packet results). */
    TFTP_FAIL_MALFORMED,
    TFTP_FAIL_TOO_LONG,
    TFTP_FAIL_ILLEGAL_OP, /* also: a packet other than ACK or ERROR during a transfer */
    TFTP_FAIL_BAD_MODE,
    TFTP_FAIL_EMPTY_NAME,
    TFTP_FAIL_BAD_OPTION,
    TFTP_FAIL_DUP_OPTION,
    TFTP_FAIL_UNDEFINED, /* a parse result with no meaning for a peer */
    /* A well-formed request this server never serves. */
    TFTP_FAIL_UPLOAD,
    /* The resolver's answer (enum resolver_result). */
    TFTP_FAIL_NOT_FOUND,
    TFTP_FAIL_BAD_NAME,
    TFTP_FAIL_DENIED,
    TFTP_FAIL_UNAVAILABLE,
    TFTP_FAIL_PENDING,
    TFTP_FAIL_HOLD,     /* PENDING, held: nothing is sent (tftp_failure_silent) */
    TFTP_FAIL_INTERNAL, /* resolver I/O, no transfer socket, anything unexpected */
    /* Admission: the limits (see admission.h). */
    TFTP_FAIL_BUSY_TRANSFERS,
    TFTP_FAIL_BUSY_CLIENT,
    TFTP_FAIL_BUSY_UNACKED_PREFIX,
    TFTP_FAIL_BUSY_UNACKED,
    /* During a transfer. */
    TFTP_FAIL_FILE_CHANGED,
    TFTP_FAIL_SHUTDOWN,
    TFTP_FAIL_KINDS,
};

/* Whether a request that failed with f gets no ERROR at all (the client's
 * resend is answered later). */
bool tftp_failure_silent(enum tftp_failure f);
/* The ERROR code of f, and its text in *msg (when msg is not NULL). A value
 * outside the enum (and TFTP_FAIL_NONE) is TFTP_FAIL_INTERNAL's. */
uint16_t tftp_wire_error(enum tftp_failure f, const char **msg);
/* The failure a codec result (enum tftp_parse_result, not OK) stands for. */
enum tftp_failure tftp_failure_of_parse(int parse_result);
/* The failure a resolver result (enum resolver_result, not OK) stands for. */
enum tftp_failure tftp_failure_of_resolver(int result);
/* tftp_wire_error(tftp_failure_of_resolver(result), msg). */
uint16_t tftp_wire_error_for(int result, const char **msg);

#endif
