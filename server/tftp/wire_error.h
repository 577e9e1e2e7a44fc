/* wire_error.h: the one mapping from a failure to the TFTP ERROR code and
 * text a client receives. Pure: no sockets. */
#ifndef LOADSD_WIRE_ERROR_H
#define LOADSD_WIRE_ERROR_H

#include <stdint.h>

/* The TFTP ERROR code and message for a resolver result (enum
 * resolver_result). */
uint16_t tftp_wire_error_for(int result, const char **msg);

#endif
