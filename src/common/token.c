/*
 * token.c — the security identity of a process, from its Unix credentials.
 */
#include "common/token.h"

#include <stdint.h>
#include <stdlib.h>

/* The groups every token has, and those root has besides. */
static const char *const everyone_groups[] = {"WD", "AU", "BU"};
static const char *const root_groups[] = {"SY", "BA"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

DWORD nsem__token_init(struct nsem_token *t, uint32_t uid, uint32_t gid, const uint32_t *groups, size_t n)
{
    if (n > SIZE_MAX / sizeof *t->groups - 8) return ERROR_NOT_ENOUGH_MEMORY;
    size_t cap = 1 + n + COUNT(everyone_groups) + COUNT(root_groups);
    t->groups = calloc(cap, sizeof *t->groups);
    if (!t->groups) return ERROR_NOT_ENOUGH_MEMORY;
    t->privileged = uid == 0;
    nsem__sid_from_uid(&t->user, uid);
    nsem__sid_from_gid(&t->primary_group, gid);
    size_t k = 0;
    t->groups[k++] = t->primary_group;
    for (size_t i = 0; i < n; i++)
        if (groups[i] != gid) nsem__sid_from_gid(&t->groups[k++], groups[i]);
    for (size_t i = 0; i < COUNT(everyone_groups); i++) nsem__sid_from_alias(&t->groups[k++], everyone_groups[i]);
    if (t->privileged)
        for (size_t i = 0; i < COUNT(root_groups); i++) nsem__sid_from_alias(&t->groups[k++], root_groups[i]);
    t->group_count = k;
    return 0;
}

void nsem__token_destroy(struct nsem_token *t)
{
    free(t->groups);
    t->groups = NULL;
    t->group_count = 0;
}

bool nsem__token_has_sid(const struct nsem_token *t, const unsigned char *sid)
{
    if (nsem__sid_equal(t->user.b, sid)) return true;
    for (size_t i = 0; i < t->group_count; i++)
        if (nsem__sid_equal(t->groups[i].b, sid)) return true;
    return false;
}
