/* siphash.h: SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed 64-bit hash
 * for tables whose keys come from the network, so no peer can aim at one bucket.
 * Pure: no globals, no allocation. */
#ifndef LOADSD_SIPHASH_H
#define LOADSD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *msg, size_t len);

#endif
