/* loads_parse.h: the text list inside a .loads file (after its signed header):
 * component file names, optional size and hash columns, comments, directives.
 * Pure parsing of bytes: no files. */
#ifndef LOADSD_LOADS_PARSE_H
#define LOADSD_LOADS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOADS_PAYLOAD_MAX (64u * 1024) /* a real list is a few hundred bytes */
#define LOADS_ENTRIES_MAX 256
#define LOADS_NAME_MAX    255 /* file name length, NUL excluded */
#define LOADS_LINE_MAX    1024

struct loads_entry {
    char name[LOADS_NAME_MAX + 1];
    bool has_size;
    uint64_t size; /* of the whole component file, header included */
    bool extra;    /* from a "#+ NAME SIZE HASH" line */
    unsigned line; /* 1-based line number, for reports */
};

struct loads_list {
    struct loads_entry entries[LOADS_ENTRIES_MAX];
    size_t count;
    unsigned directives; /* "#?" lines seen */
    unsigned settings;   /* KEY=VALUE lines seen (not files) */
};

enum loads_result {
    LOADS_OK = 0,
    LOADS_TOO_BIG = -1,   /* payload over LOADS_PAYLOAD_MAX */
    LOADS_TOO_MANY = -2,  /* over LOADS_ENTRIES_MAX entries */
    LOADS_BAD_LINE = -3,  /* a line over LOADS_LINE_MAX, a NUL or control byte, a bad column */
    LOADS_BAD_NAME = -4,  /* a name with "/", "\", "..", or over LOADS_NAME_MAX */
    LOADS_DUPLICATE = -5, /* the same name twice (case-insensitive) */
    LOADS_EMPTY = -6,     /* no component listed */
};

/* Parses a payload. On error *line is the 1-based line and *why says what. */
int loads_parse(const uint8_t *payload, size_t len, struct loads_list *out, unsigned *line,
                const char **why);

#endif
