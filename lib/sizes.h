/* sizes.h: the buffer sizes every layer shares: a SHA-256 in hex and a path
 * made of a directory and a name under it. Constants only. */
#ifndef LOADSD_SIZES_H
#define LOADSD_SIZES_H

#include <limits.h>

#define SHA256_HEX_LEN 64                   /* lower-case hex, NUL excluded */
#define SHA256_HEX_BUF (SHA256_HEX_LEN + 1) /* with the NUL */
#define DIR_BUF        PATH_MAX             /* a directory the operator names */
#define PATH_BUF       (PATH_MAX + 256)     /* such a directory and a name under it */

#endif
