/*
 * sdstore.c — the security descriptors of objects, each kept once. Objects with the same
 * descriptor share one reference-counted copy, as Windows' object manager shares them in its
 * descriptor cache: every object a user makes without a descriptor has the same default one, so a
 * million objects cost one copy. Each copy is also written to the arena (blobstore.c), and every
 * object's slot points at it (sd_slot), so that a server restarted after a crash gives each object
 * its descriptor again (recover.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/object_sd.h"
#include "common/secdesc.h"
#include "server/server.h"

static struct nsem_sd_entry **buckets;
static uint32_t nbuckets; /* a power of two */
static uint32_t nentries;

static uint32_t sd_hash(const unsigned char *sd, uint32_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++) h = (h ^ sd[i]) * 16777619u;
    return h;
}

static struct nsem_sd_entry *lookup(const unsigned char *sd, uint32_t len, uint32_t hash)
{
    if (!nbuckets) return NULL;
    for (struct nsem_sd_entry *e = buckets[hash & (nbuckets - 1)]; e; e = e->hash_next)
        if (e->hash == hash && e->len == len && memcmp(e->bytes, sd, len) == 0) return e;
    return NULL;
}

static bool grow(void)
{
    uint32_t n = nbuckets ? nbuckets * 2 : 64;
    struct nsem_sd_entry **b = calloc(n, sizeof *b);
    if (!b) return false;
    for (uint32_t i = 0; i < nbuckets; i++)
        for (struct nsem_sd_entry *e = buckets[i], *next; e; e = next) {
            next = e->hash_next;
            e->hash_next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    free(buckets);
    buckets = b;
    nbuckets = n;
    return true;
}

/* The entry of sd, with a reference: an existing one, or a new one whose arena copy is `blob`
 * (0: write one now). *created says which. */
static struct nsem_sd_entry *intern(const unsigned char *sd, uint32_t len, uint32_t blob, bool *created)
{
    uint32_t hash = sd_hash(sd, len);
    struct nsem_sd_entry *e = lookup(sd, len, hash);
    *created = !e;
    if (e) {
        e->refs++;
        return e;
    }
    if (nentries >= nbuckets && !grow() && !nbuckets) return NULL;
    e = malloc(sizeof *e + len);
    if (!e) return NULL;
    e->refs = 1;
    e->hash = hash;
    e->len = len;
    memcpy(e->bytes, sd, len);
    /* Without room in the arena the descriptor holds, but a restarted server would not find it. */
    e->blob = blob ? blob : nsem__blob_write(NSEM_TYPE_SD_CHUNK, 0, sd, len);
    e->hash_next = buckets[hash & (nbuckets - 1)];
    buckets[hash & (nbuckets - 1)] = e;
    nentries++;
    return e;
}

struct nsem_sd_entry *nsem__sd_intern(const unsigned char *sd, uint32_t len)
{
    bool created;
    return intern(sd, len, 0, &created);
}

struct nsem_sd_entry *nsem__sd_default_entry(const struct nsem_token *t)
{
    unsigned char *sd;
    size_t len;
    if (nsem__sd_default(t, &sd, &len) != 0) return NULL;
    struct nsem_sd_entry *e = nsem__sd_intern(sd, (uint32_t)len);
    free(sd);
    return e;
}

void nsem__sd_release(struct nsem_sd_entry *e)
{
    if (--e->refs > 0) return;
    struct nsem_sd_entry **p = &buckets[e->hash & (nbuckets - 1)];
    while (*p != e) p = &(*p)->hash_next;
    *p = e->hash_next;
    nentries--;
    nsem__blob_free(NSEM_TYPE_SD_CHUNK, e->blob, e->blob);
    free(e);
}

struct nsem_sd_entry *nsem__sd_recover(uint32_t blob, bool *adopted)
{
    *adopted = false;
    uint32_t len;
    errno = EINVAL;
    unsigned char *sd = blob ? nsem__blob_read(NSEM_TYPE_SD_CHUNK, blob, blob, NSEM_SD_MAX_BYTES, &len) : NULL;
    if (!sd) return NULL;
    /* A client may have scribbled over the arena: only a descriptor an object could have is taken. */
    struct nsem_sd parts;
    unsigned char *canonical = NULL;
    size_t canonical_len;
    DWORD built = ERROR_INVALID_SECURITY_DESCR;
    if (nsem__sd_check(sd, len, &parts) != 0 || !parts.owner || !parts.group ||
        (built = nsem__sd_build(&parts, &canonical, &canonical_len)) != 0 || canonical_len != len ||
        memcmp(canonical, sd, len) != 0) {
        free(canonical);
        free(sd);
        errno = built == ERROR_NOT_ENOUGH_MEMORY ? ENOMEM : EINVAL;
        return NULL;
    }
    free(canonical);
    bool created;
    struct nsem_sd_entry *e = intern(sd, len, blob, &created);
    free(sd);
    if (!e) errno = ENOMEM;
    if (e && !created && !e->blob) e->blob = blob; /* the same descriptor, not in the arena yet */
    *adopted = e && e->blob == blob;
    return e;
}

uint32_t nsem__sd_count(void)
{
    return nentries;
}
