/* hashmap.c: an open-addressing hash map from strings to ints. */
#include <stdlib.h>
#include <string.h>

/** One slot of the table; a NULL key is an empty slot. */
struct slot {
    const char *key;
    int value;
};

/* How the table grows when it is three quarters full. */
typedef enum { GROW_DOUBLE, GROW_HALF } grow_policy;

/**
 * The map: a table of slots probed linearly.
 * Create with hashmap_new, release with hashmap_free.
 */
typedef struct hashmap {
    struct slot *slots;
    size_t cap, len;
    struct stats {
        size_t probes, resizes;
    } stats;
    grow_policy policy;
} hashmap;

// FNV-1a hash of a NUL-terminated string.
static unsigned long hash(const char *s)
{
    unsigned long h = 2166136261UL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619UL;
    return h;
}

/**
 * Creates a map with room for cap entries.
 * Returns NULL when out of memory.
 */
hashmap *hashmap_new(size_t cap)
{
    hashmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->slots = calloc(cap, sizeof *m->slots);
    m->cap = cap;
    return m;
}

/* Declared here, defined below: a prototype is not a definition. */
int hashmap_put(hashmap *m, const char *key, int value);

static struct slot *find(const hashmap *m, const char *key)
{
    size_t i = hash(key) % m->cap;
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0) {
        i = (i + 1) % m->cap;
    }
    return &m->slots[i];
}

// Stores value under key; returns 0, or -1 when the table is full.
int hashmap_put(hashmap *m, const char *key, int value)
{
    struct slot *s = find(m, key);
    if (!s->key) {
        if (m->len + 1 == m->cap)
            return -1;
        s->key = key;
        m->len++;
    }
    s->value = value;
    return 0;
}

/* Copies the value under key into *out; returns 1 if found. */
int hashmap_get(const hashmap *m, const char *key, int *out)
{
    const struct slot *s = find(m, key;
    if (!s->key)
        return 0;
    *out = s->value;
    return 1;
}

/* Frees the map and its table (not the keys). */
void hashmap_free(hashmap *m)
{
    free(m->slots);
    free(m);
}

const char *hashmap_name(void) { return "table de hachage ⌗"; }
