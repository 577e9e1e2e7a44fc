/* siphash.c: SipHash-2-4 as the paper specifies it: 64-bit little-endian words,
 * two compression rounds per word, four finalisation rounds.
 * Pure: no globals, no allocation; the caller keeps the key secret. */
#include "lib/siphash.h"

static uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

struct sipstate {
    uint64_t v0, v1, v2, v3;
};

static void sipround(struct sipstate *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13) ^ s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16) ^ s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21) ^ s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17) ^ s->v2;
    s->v2 = rotl64(s->v2, 32);
}

static void sip_compress(struct sipstate *s, uint64_t m)
{
    s->v3 ^= m;
    sipround(s);
    sipround(s);
    s->v0 ^= m;
}

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *msg, size_t len)
{
    const uint8_t *p = msg;
    uint64_t k0 = load_le64(key, 8), k1 = load_le64(key + 8, 8);
    /* "somepseudorandomlygeneratedbytes", the paper's initial constants */
    struct sipstate s = {k0 ^ UINT64_C(0x736f6d6570736575), k1 ^ UINT64_C(0x646f72616e646f6d),
                         k0 ^ UINT64_C(0x6c7967656e657261), k1 ^ UINT64_C(0x7465646279746573)};
    size_t whole = len - len % 8;

    for (size_t i = 0; i < whole; i += 8)
        sip_compress(&s, load_le64(p + i, 8));
    /* The last word: the remaining bytes, and the length mod 256 on top. */
    sip_compress(&s, load_le64(p + whole, len % 8) | (uint64_t)(len & 0xff) << 56);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sipround(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
