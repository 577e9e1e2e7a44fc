/* sigstatus.h: a load's status, derived from the facts about its files (the
 * weakest file decides) and whether the signature policy lets it be served.
 * Pure: no database, no I/O; the one place these rules live. */
#ifndef LOADSD_SIGSTATUS_H
#define LOADSD_SIGSTATUS_H

#include <stdbool.h>

/* Best first. */
enum sigstatus {
    SIGSTATUS_VERIFIED,    /* every file verifies against a trusted certificate, or the
                              bundle carries a valid approval signature */
    SIGSTATUS_SIGNED,      /* every file has a well-formed signed header; not all verify */
    SIGSTATUS_PARTIAL,     /* the .loads file is signed, some component has no header */
    SIGSTATUS_UNSIGNED,    /* the .loads file has no signed header */
    SIGSTATUS_INVALID,     /* a file's signature fails against a trusted certificate */
    SIGSTATUS_QUARANTINED, /* a file no longer matches its hash, or is missing */
};

/* What is known about one load's files now (the .loads file included). */
struct sigstatus_facts {
    unsigned files;       /* the .loads file and every component it lists */
    unsigned quarantined; /* files that fail their hash or are missing */
    unsigned bad;         /* files whose signature fails against a trusted certificate */
    unsigned verified;    /* files whose signature verifies against a trusted certificate */
    unsigned unsigned_;   /* files without a signed header */
    bool loads_signed;    /* the .loads file has a signed header */
    bool approved;        /* an approval signature by a certificate trusted now */
};

/* The load's status: quarantined > invalid > approved (verified) > unsigned
 * .loads > every file verified > a component unsigned (partial) > signed. */
enum sigstatus sigstatus_derive(const struct sigstatus_facts *f);

/* Whether policy ("signed", "verified", "any") lets a load with status st be
 * imported, served and named in configs. Quarantined and invalid never are;
 * "verified" takes verified only; "signed" takes verified, signed and
 * partial (the .loads file is signed); "any" takes everything else. An
 * unknown policy is read as "verified" (fail closed). */
bool sigstatus_allowed(enum sigstatus st, const char *policy);

/* "verified", "signed", "partial", "unsigned", "invalid", "quarantined". */
const char *sigstatus_name(enum sigstatus st);

#endif
