/* sigstatus.c: the status rules of a load (the weakest file decides) and
 * the signature policy. Pure: no database, no I/O, no allocation. */
#include "db/model/sigstatus.h"

#include <string.h>

enum sigstatus sigstatus_derive(const struct sigstatus_facts *f)
{
    if (f->quarantined > 0)
        return SIGSTATUS_QUARANTINED;
    if (f->bad > 0)
        return SIGSTATUS_INVALID;
    /* An approval signature covers the whole bundle, unsigned files too. */
    if (f->approved)
        return SIGSTATUS_VERIFIED;
    if (!f->loads_signed)
        return SIGSTATUS_UNSIGNED;
    if (f->files > 0 && f->verified == f->files)
        return SIGSTATUS_VERIFIED;
    if (f->unsigned_ > 0)
        return SIGSTATUS_PARTIAL;
    return SIGSTATUS_SIGNED;
}

bool sigstatus_allowed(enum sigstatus st, const char *policy)
{
    if (st == SIGSTATUS_QUARANTINED || st == SIGSTATUS_INVALID)
        return false;
    if (policy != NULL && strcmp(policy, "any") == 0)
        return true;
    if (policy != NULL && strcmp(policy, "signed") == 0)
        return st != SIGSTATUS_UNSIGNED;
    return st == SIGSTATUS_VERIFIED;
}

const char *sigstatus_name(enum sigstatus st)
{
    static const char *const names[] = {
        [SIGSTATUS_VERIFIED] = "verified", [SIGSTATUS_SIGNED] = "signed",
        [SIGSTATUS_PARTIAL] = "partial",   [SIGSTATUS_UNSIGNED] = "unsigned",
        [SIGSTATUS_INVALID] = "invalid",   [SIGSTATUS_QUARANTINED] = "quarantined",
    };

    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "invalid";
}
