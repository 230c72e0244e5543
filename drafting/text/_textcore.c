/* Word-level diffs of long clause texts in one compiled pass: tokenising, alignment, edit ranges.

The same units and levels as drafting/text/diffing.py (docs/architecture.md, "Diffs and merges"):
tokens are whitespace runs, runs of word characters outside the scripts written without spaces,
and otherwise one grapheme cluster; a merge's tokens carry the spaces after them. Changed stretches
are compared paragraph by paragraph, then sentence by sentence, then token by token, each level
aligned by a longest common subsequence (bit-parallel where long, Myers' O(ND) search otherwise),
all drawing on one work budget: past it, what is left is one replacement, coarser but exact. A
changed run of sentences whose counts differ (a full stop typed or deleted) is cut where both sides
end a sentence alike before it is compared token by token.

`merge_texts` runs both diffs of a three-way merge and groups their changes in one call, the base
read, tokenised and numbered once; `merge` groups changes found by two `diff` calls.

The character classes come from the `regex` module itself (scripts/build_textcore.py writes them to
_textcore_tables.h), so the tokens are those of diffing._TOKEN_RE and _SPACED_TOKEN_RE (and of the
plain `re` patterns for texts below U+0300). A grapheme cluster this code does not model (one that
starts with a Prepend, a Hangul jamo or an Indic consonant) makes `diff` answer None: the caller
then takes the Python path.

The GIL is released while the texts are tokenised and compared.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_textcore_tables.h"

/* --- memory: the big arrays of one call kept for the next -------------------------------------

A merge of two 100 KB texts allocates some 5 MB of arrays (characters, token edges, ids, hashes,
changes), which the C library maps afresh and the kernel zero-fills on every call: a third of a
CJK merge's time went to page faults. Arrays of POOL_FROM bytes or more are therefore kept, up to
POOL_KEEP bytes for the whole process, and handed to the next call that needs one of their size
(under a lock: the diffs run without the GIL, several at a time). */
#define POOL_FROM ((size_t)64 * 1024)
#define POOL_KEEP ((size_t)32 * 1024 * 1024)
#define POOL_LARGEST ((size_t)8 * 1024 * 1024) /* a larger array (an LCS matrix) is not kept */
#define POOL_BLOCKS 64

typedef struct {
    size_t size;  /* bytes usable after the header */
    size_t kept;  /* 1: of the pool's sizes, returned to it when freed */
} BlockHead;      /* 16 bytes: what follows stays aligned for any type */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static BlockHead *pool[POOL_BLOCKS];
static size_t pool_count, pool_bytes;

static void *big_alloc(size_t size)
{
    int kept = size >= POOL_FROM && size <= POOL_LARGEST;
    if (kept) {
        size = (size + POOL_FROM - 1) / POOL_FROM * POOL_FROM;
        BlockHead *found = NULL;
        pthread_mutex_lock(&pool_lock);
        size_t best = 0;
        for (size_t k = 0; k < pool_count; k++) /* the smallest block that fits, at most twice the size */
            if (pool[k]->size >= size && pool[k]->size <= 2 * size && (!found || pool[k]->size < pool[best]->size)) {
                found = pool[k];
                best = k;
            }
        if (found) {
            pool[best] = pool[--pool_count];
            pool_bytes -= found->size;
        }
        pthread_mutex_unlock(&pool_lock);
        if (found)
            return found + 1;
    }
    BlockHead *head = malloc(sizeof(BlockHead) + (size ? size : 1));
    if (!head)
        return NULL;
    head->size = size;
    head->kept = kept;
    return head + 1;
}

static void big_free(void *pointer)
{
    if (!pointer)
        return;
    BlockHead *head = (BlockHead *)pointer - 1;
    if (head->kept) {
        pthread_mutex_lock(&pool_lock);
        int stored = pool_count < POOL_BLOCKS && pool_bytes + head->size <= POOL_KEEP;
        if (stored) {
            pool[pool_count++] = head;
            pool_bytes += head->size;
        }
        pthread_mutex_unlock(&pool_lock);
        if (stored)
            return;
    }
    free(head);
}

static void *big_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *pointer = big_alloc(count * size);
    if (pointer)
        memset(pointer, 0, count * size);
    return pointer;
}

static void *big_realloc(void *pointer, size_t size)
{
    if (pointer && ((BlockHead *)pointer - 1)->size >= size)
        return pointer;
    void *grown = big_alloc(size);
    if (grown && pointer) {
        memcpy(grown, pointer, ((BlockHead *)pointer - 1)->size);
        big_free(pointer);
    }
    return grown;
}

/* Character classes (full: the `regex` module's, for any text; plain: `re`'s, below U+0300). */
#define F_SPACE 0x001      /* \s */
#define F_RUN 0x002        /* \w outside the scripts without spaces: a word run */
#define F_EXTEND 0x004     /* Grapheme_Cluster_Break=Extend */
#define F_ZWJ 0x008        /* Grapheme_Cluster_Break=ZWJ */
#define F_RI 0x010         /* Regional_Indicator */
#define F_SPACINGMARK 0x020
#define F_EXTPICT 0x040    /* Extended_Pictographic */
#define F_CONTROL 0x080    /* Control, CR, LF: a cluster of its own */
#define F_ODDSTART 0x100   /* Prepend, Hangul jamo or syllable: a cluster from here is not modelled */
#define F_LINKER 0x200     /* Indic_Conjunct_Break=Linker */
#define F_INCB_EXTEND 0x400 /* Indic_Conjunct_Break=Extend */
#define F_CONSONANT 0x800  /* Indic_Conjunct_Break=Consonant */
#define F_PYSPACE 0x1000   /* str.isspace(): what str.strip() removes */
#define P_SPACE 0x01
#define P_WORD 0x02
#define PLAIN_BELOW 0x300

enum { PARAGRAPHS = 0, SENTENCES = 1, TOKENS = 2 };
#define SHORT 400 /* characters of both sides below which a stretch is compared in tokens at once */
#define REWRITE_MIN 16
#define BITS_FROM 128 /* tokens of both sides from which an alignment is bit-parallel */

static inline uint16_t full_flags(uint32_t c)
{
    return c < 0x110000 ? textcore_stage2[textcore_stage1[c >> 8]][c & 0xff] : F_CONTROL;
}

/* --- tokens ------------------------------------------------------------------------------ */

/* The end of the grapheme cluster starting at i (UAX #29 as `regex` applies it); -1 if not modelled. */
static Py_ssize_t cluster_end(const uint32_t *s, Py_ssize_t n, Py_ssize_t i)
{
    uint16_t f = full_flags(s[i]);
    if (f & F_ODDSTART)
        return -1;
    Py_ssize_t j = i + 1;
    if (f & F_CONTROL)
        return j; /* GB4 */
    int pict = (f & F_EXTPICT) ? 1 : 0; /* 1: ExtPict Extend*; 2: ExtPict Extend* ZWJ */
    /* GB9c as `regex` applies it: a Linker, then InCB Extend or Linker characters, joins a
       Consonant, looking back past the cluster's start (a Linker may end the word before it). */
    int linked = 0;
    for (Py_ssize_t p = i - 1; p >= 0; p--) {
        uint16_t g = full_flags(s[p]);
        if (g & F_LINKER) {
            linked = 1;
            break;
        }
        if (!(g & F_INCB_EXTEND))
            break;
    }
    if (f & F_LINKER)
        linked = 1;
    else if (!(f & F_INCB_EXTEND))
        linked = 0;
    while (j < n) {
        uint16_t g = full_flags(s[j]);
        if (g & F_CONTROL)
            break; /* GB5 */
        if (g & (F_EXTEND | F_ZWJ)) { /* GB9 */
            if (g & F_ZWJ)
                pict = pict == 1 ? 2 : 0;
            else
                pict = pict == 1 ? 1 : 0;
            if (g & F_LINKER)
                linked = 1;
            else if (!(g & F_INCB_EXTEND))
                linked = 0;
            j++;
            continue;
        }
        if (g & F_SPACINGMARK) { /* GB9a */
            pict = linked = 0;
            j++;
            continue;
        }
        if ((g & F_EXTPICT) && pict == 2) { /* GB11 */
            pict = 1;
            linked = 0;
            j++;
            continue;
        }
        if ((g & F_CONSONANT) && linked) { /* GB9c */
            pict = linked = 0;
            j++;
            continue;
        }
        if ((g & F_RI) && (f & F_RI) && j == i + 1) { /* GB12: a pair of regional indicators */
            j++;
            continue;
        }
        break; /* GB999 */
    }
    return j;
}

/* What ends after a token (diffing's sentence and paragraph splitters): a paragraph (2) after two
   line breaks among its trailing spaces, a sentence (1) after one, after . ! ? ; : and spaces, or
   after 。！？ (last: the last character other than a space so far, across tokens). */
static inline uint8_t end_mark(uint32_t last, Py_ssize_t breaks, int spaces_after)
{
    if (breaks >= 2)
        return 2;
    if (breaks == 1)
        return 1;
    if (spaces_after)
        return last == '.' || last == '!' || last == '?' || last == ';' || last == ':';
    return last == 0x3002 || last == 0xFF01 || last == 0xFF1F;
}

/* Clusters that may be more than one character, or whose start is not modelled: the rest is a
   cluster of one character unless an Extend, ZWJ or SpacingMark follows (see cluster_end). */
#define F_NOT_SINGLE (F_ODDSTART | F_CONTROL | F_EXTPICT | F_LINKER | F_INCB_EXTEND | F_RI)

/* Token edges of s into bounds[0..count] and, when marks is given, what ends after each token
   (end_mark) into marks[0..count); the count, or -1 for a cluster not modelled. One pass: each
   character's class is looked up once, or twice where a cluster goes on. */
static Py_ssize_t tokenize(const uint32_t *s, Py_ssize_t n, int plain, int spaced, Py_ssize_t *bounds,
                           uint8_t *marks)
{
    Py_ssize_t i = 0, count = 0;
    uint32_t last = 0;
    if (plain) {
        while (i < n) {
            Py_ssize_t word_end, breaks = 0;
            bounds[count] = i;
            uint8_t f = textcore_plain[s[i]];
            if (f & P_SPACE) {
                word_end = i;
                while (i < n && (textcore_plain[s[i]] & P_SPACE))
                    breaks += s[i++] == '\n';
            } else {
                if (f & P_WORD)
                    while (i < n && (textcore_plain[s[i]] & P_WORD))
                        i++;
                else
                    i++;
                word_end = i;
                last = s[i - 1];
                if (spaced)
                    while (i < n && (textcore_plain[s[i]] & P_SPACE))
                        breaks += s[i++] == '\n';
            }
            if (marks)
                marks[count] = end_mark(last, breaks, i > word_end);
            count++;
        }
        bounds[count] = n;
        return count;
    }
    uint16_t f = n ? full_flags(s[0]) : 0; /* the class of s[i] */
    while (i < n) {
        Py_ssize_t word_end, breaks = 0;
        bounds[count] = i;
        if (f & F_SPACE) {
            word_end = i;
            do
                breaks += s[i++] == '\n';
            while (i < n && ((f = full_flags(s[i])) & F_SPACE));
        } else {
            if (f & F_RUN) {
                do
                    i++;
                while (i < n && ((f = full_flags(s[i])) & F_RUN));
            } else {
                Py_ssize_t start = i++;
                int single = !(f & F_NOT_SINGLE);
                if (i < n) {
                    f = full_flags(s[i]);
                    single = single && !(f & (F_EXTEND | F_ZWJ | F_SPACINGMARK));
                }
                if (!single) {
                    i = cluster_end(s, n, start);
                    if (i < 0)
                        return -1;
                    if (i < n)
                        f = full_flags(s[i]);
                }
            }
            word_end = i;
            last = s[i - 1];
            if (spaced)
                while (i < n && (f & F_SPACE)) {
                    breaks += s[i++] == '\n';
                    if (i < n)
                        f = full_flags(s[i]);
                }
        }
        if (marks)
            marks[count] = end_mark(last, breaks, i > word_end);
        count++;
    }
    bounds[count] = n;
    return count;
}

/* --- one side of a diff: its text, tokens, token ids and where units end ------------------ */

typedef struct {
    uint32_t *s;
    Py_ssize_t n;
    Py_ssize_t *bounds; /* token k is s[bounds[k]:bounds[k + 1]] */
    Py_ssize_t count;
    int32_t *ids;       /* equal tokens have equal ids, across both sides */
    uint8_t *ends;      /* after token k a sentence (1) or a paragraph (2) ends */
    uint64_t *prefix;   /* prefix[k]: a polynomial hash of ids[0:k] (a unit's hash from two of them) */
    Py_ssize_t *stops[2], nstops[2]; /* the tokens after which a sentence [0] or a paragraph [1] ends */
} Side;

typedef struct {
    Side old, new;
    int plain;
    int64_t budget;     /* work left, in steps (a comparison or a cell of Myers' search) */
    int64_t spent;
    int failed;         /* out of memory */
    int32_t *count_old, *count_new; /* per token id, zero between uses */
    Py_ssize_t *hunks;  /* changes: old start, old end, new start, new end (characters) */
    Py_ssize_t nhunks, caphunks;
    Py_ssize_t *scratch; /* Myers' diagonals, reused (bisect frees its share before recursing) */
    Py_ssize_t scratch_cap;
    struct Runs *token_runs; /* the token level's runs, reused: it does not recurse */
    uint64_t *powers;   /* HASH_BASE ** k, for the longest text's tokens */
} Diff;

/* Ids for tokens: equal text, equal id (an open-addressing table over both sides). */
/* Most tokens are a few characters (one, in Chinese and Japanese): compared here, not by memcmp. */
static inline int same_chars(const uint32_t *a, const uint32_t *b, Py_ssize_t n)
{
    if (n > 8)
        return !memcmp(a, b, n * sizeof(uint32_t));
    for (Py_ssize_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline uint64_t hash_chars(const uint32_t *s, Py_ssize_t n)
{
    if (n == 1)
        return (s[0] * 0x9E3779B97F4A7C15ULL) ^ 1;
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (uint64_t)n;
}

typedef struct {
    uint64_t hash;
    const uint32_t *text;
    Py_ssize_t len;
    int32_t id;
} Slot;

static size_t table_size(Py_ssize_t entries)
{
    size_t size = 16;
    while (size < (size_t)entries * 2)
        size <<= 1;
    return size;
}

/* Put the slots of a table into one twice its size (hashes kept, so nothing is compared again). */
static Slot *grow(Slot *slots, size_t size)
{
    size_t bigger = 2 * size, mask = bigger - 1;
    Slot *grown = big_calloc(bigger, sizeof(Slot));
    if (!grown)
        return NULL;
    for (size_t k = 0; k < size; k++)
        if (slots[k].text) {
            size_t at = slots[k].hash & mask;
            while (grown[at].text)
                at = (at + 1) & mask;
            grown[at] = slots[k];
        }
    big_free(slots);
    return grown;
}

#define DIRECT_FROM 4096 /* tokens of both sides from which one-character tokens are looked up directly */

/* Ids over the tokens of nsides texts (a diff's two, or a merge's base and both sides). */
static int32_t assign_token_ids(Side **sides, int nsides)
{
    Py_ssize_t tokens = 0;
    for (int which = 0; which < nsides; which++)
        tokens += sides[which]->count;
    /* Sized by the distinct tokens as they come (a few thousand), not by all of them: a table for
       200,000 one-character tokens would be 16 MB to clear for every diff. */
    size_t size = 1024, mask = size - 1, used = 0;
    Slot *slots = big_calloc(size, sizeof(Slot));
    /* Long texts: a token of one character of the Basic Multilingual Plane (every token of
       Chinese and Japanese, the spaces and punctuation of others) finds its id in an array by
       its code point (id + 1; 256 KB, its untouched pages never mapped), with no probing. */
    int32_t *direct = tokens >= DIRECT_FROM ? big_calloc(0x10000, sizeof(int32_t)) : NULL;
    if (!slots || (!direct && tokens >= DIRECT_FROM)) {
        big_free(slots);
        big_free(direct);
        return -1;
    }
    int32_t next = 0;
    for (int which = 0; which < nsides; which++) {
        Side *side = sides[which];
        for (Py_ssize_t k = 0; k < side->count; k++) {
            const uint32_t *text = side->s + side->bounds[k];
            Py_ssize_t len = side->bounds[k + 1] - side->bounds[k];
            if (direct && len == 1 && text[0] < 0x10000) {
                int32_t *cell = direct + text[0];
                if (!*cell)
                    *cell = ++next;
                side->ids[k] = *cell - 1;
                continue;
            }
            uint64_t h = hash_chars(text, len);
            size_t at = h & mask;
            while (slots[at].text) {
                if (slots[at].hash == h && slots[at].len == len && same_chars(slots[at].text, text, len))
                    break;
                at = (at + 1) & mask;
            }
            if (!slots[at].text) {
                slots[at].hash = h;
                slots[at].text = text;
                slots[at].len = len;
                slots[at].id = next++;
                if (++used * 2 > size) {
                    Slot *grown = grow(slots, size);
                    if (!grown) {
                        big_free(slots);
                        big_free(direct);
                        return -1;
                    }
                    slots = grown;
                    size *= 2;
                    mask = size - 1;
                }
                side->ids[k] = next - 1;
                continue;
            }
            side->ids[k] = slots[at].id;
        }
    }
    big_free(slots);
    big_free(direct);
    return next;
}

/* --- output ------------------------------------------------------------------------------- */

/* A change of old tokens [oa, ob) into new tokens [na, nb), joined to the one before if they meet. */
static void emit_change(Diff *d, Py_ssize_t oa, Py_ssize_t ob, Py_ssize_t na, Py_ssize_t nb)
{
    if (oa == ob && na == nb)
        return;
    Py_ssize_t o1 = d->old.bounds[oa], o2 = d->old.bounds[ob], n1 = d->new.bounds[na], n2 = d->new.bounds[nb];
    if (d->nhunks) {
        Py_ssize_t *last = d->hunks + 4 * (d->nhunks - 1);
        if (last[1] == o1 && last[3] == n1) {
            last[1] = o2;
            last[3] = n2;
            return;
        }
    }
    if (d->nhunks == d->caphunks) {
        Py_ssize_t cap = d->caphunks ? 2 * d->caphunks : 64;
        Py_ssize_t *grown = big_realloc(d->hunks, cap * 4 * sizeof(Py_ssize_t));
        if (!grown) {
            d->failed = 1;
            return;
        }
        d->hunks = grown;
        d->caphunks = cap;
    }
    Py_ssize_t *hunk = d->hunks + 4 * d->nhunks++;
    hunk[0] = o1;
    hunk[1] = o2;
    hunk[2] = n1;
    hunk[3] = n2;
}

/* --- Myers' O(ND) diff over ids, bisected at the middle snake (as diff-match-patch does) ------ */

typedef struct Runs {
    Py_ssize_t *runs; /* equal runs: i1, i2, j1, j2 */
    Py_ssize_t count, cap;
} Runs;

static int push_run(Runs *runs, Py_ssize_t i1, Py_ssize_t i2, Py_ssize_t j1, Py_ssize_t j2)
{
    if (runs->count && runs->runs[4 * runs->count - 3] == i1 && runs->runs[4 * runs->count - 1] == j1) {
        runs->runs[4 * runs->count - 3] = i2;
        runs->runs[4 * runs->count - 1] = j2;
        return 0;
    }
    if (runs->count == runs->cap) {
        Py_ssize_t cap = runs->cap ? 2 * runs->cap : 32;
        Py_ssize_t *grown = big_realloc(runs->runs, cap * 4 * sizeof(Py_ssize_t));
        if (!grown)
            return -1;
        runs->runs = grown;
        runs->cap = cap;
    }
    Py_ssize_t *run = runs->runs + 4 * runs->count++;
    run[0] = i1;
    run[1] = i2;
    run[2] = j1;
    run[3] = j2;
    return 0;
}

static int align(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m,
                 Py_ssize_t ao, Py_ssize_t bo, Runs *out);

/* Find the middle snake and align both halves; 0 done, 1 out of budget, -1 out of memory. */
static int bisect(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m,
                  Py_ssize_t ao, Py_ssize_t bo, Runs *out)
{
    Py_ssize_t max_d = (n + m + 1) / 2, offset = max_d, length = 2 * max_d + 2;
    if (d->scratch_cap < 2 * length) {
        Py_ssize_t cap = 2 * length > 1024 ? 2 * length : 1024;
        Py_ssize_t *grown = big_realloc(d->scratch, cap * sizeof(Py_ssize_t));
        if (!grown)
            return -1;
        d->scratch = grown;
        d->scratch_cap = cap;
    }
    Py_ssize_t *v1 = d->scratch;
    Py_ssize_t *v2 = v1 + length;
    for (Py_ssize_t k = 0; k < 2 * length; k++)
        v1[k] = -1;
    v1[offset + 1] = 0;
    v2[offset + 1] = 0;
    Py_ssize_t delta = n - m;
    int front = (delta % 2) != 0;
    Py_ssize_t k1start = 0, k1end = 0, k2start = 0, k2end = 0, x1 = 0, y1 = 0;
    int found = 0;
    for (Py_ssize_t step = 0; step < max_d && !found; step++) {
        int64_t work = 2 * step + 2;
        for (Py_ssize_t k1 = -step + k1start; k1 <= step - k1end; k1 += 2) {
            Py_ssize_t k1o = offset + k1, x, y;
            if (k1 == -step || (k1 != step && v1[k1o - 1] < v1[k1o + 1]))
                x = v1[k1o + 1];
            else
                x = v1[k1o - 1] + 1;
            y = x - k1;
            Py_ssize_t from = x;
            while (x < n && y < m && a[x] == b[y]) {
                x++;
                y++;
            }
            work += x - from;
            v1[k1o] = x;
            if (x > n)
                k1end += 2;
            else if (y > m)
                k1start += 2;
            else if (front) {
                Py_ssize_t k2o = offset + delta - k1;
                if (k2o >= 0 && k2o < length && v2[k2o] != -1 && x >= n - v2[k2o]) {
                    x1 = x;
                    y1 = y;
                    found = 1;
                    break;
                }
            }
        }
        if (!found)
            for (Py_ssize_t k2 = -step + k2start; k2 <= step - k2end; k2 += 2) {
                Py_ssize_t k2o = offset + k2, x, y;
                if (k2 == -step || (k2 != step && v2[k2o - 1] < v2[k2o + 1]))
                    x = v2[k2o + 1];
                else
                    x = v2[k2o - 1] + 1;
                y = x - k2;
                Py_ssize_t from = x;
                while (x < n && y < m && a[n - x - 1] == b[m - y - 1]) {
                    x++;
                    y++;
                }
                work += x - from;
                v2[k2o] = x;
                if (x > n)
                    k2end += 2;
                else if (y > m)
                    k2start += 2;
                else if (!front) {
                    Py_ssize_t k1o = offset + delta - k2;
                    if (k1o >= 0 && k1o < length && v1[k1o] != -1) {
                        Py_ssize_t fx = v1[k1o];
                        if (fx >= n - x) {
                            x1 = fx;
                            y1 = offset + fx - k1o;
                            found = 1;
                            break;
                        }
                    }
                }
            }
        d->spent += work;
        d->budget -= work;
        if (d->budget < 0 && !found)
            return 1;
    }
    if (!found)
        return 0; /* nothing in common: the whole is one change */
    int status = align(d, a, x1, b, y1, ao, bo, out);
    if (status)
        return status;
    return align(d, a + x1, n - x1, b + y1, m - y1, ao + x1, bo + y1, out);
}

/* Equal runs of a shortest edit script between two id sequences: 0, 1 out of budget, -1 memory. */
static int align(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m,
                 Py_ssize_t ao, Py_ssize_t bo, Runs *out)
{
    Py_ssize_t head = 0, tail = 0;
    while (head < n && head < m && a[head] == b[head])
        head++;
    while (tail < n - head && tail < m - head && a[n - 1 - tail] == b[m - 1 - tail])
        tail++;
    d->spent += head + tail + 1;
    d->budget -= head + tail + 1;
    if (head && push_run(out, ao, ao + head, bo, bo + head))
        return -1;
    if (n - head - tail > 0 && m - head - tail > 0) {
        int status = bisect(d, a + head, n - head - tail, b + head, m - head - tail, ao + head, bo + head, out);
        if (status)
            return status;
    }
    if (tail && push_run(out, ao + n - tail, ao + n, bo + m - tail, bo + m))
        return -1;
    return 0;
}

/* --- a bit-parallel LCS (Hyyrö's; rapidfuzz's Indel for the Python path) for long ranges ---- */

#define BITS_MAX_WORDS 4000000 /* matrix words (8 bytes) one alignment may hold: 32 MB */

/* Equal runs of a longest common subsequence: 0, 1 too big for the matrix bound, -1 memory.
   Row j holds V after b[j]: bit i is 0 where a[i] raises the LCS of a[:i+1] and b[:j+1]. */
static int lcs_bits(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m,
                    Py_ssize_t ao, Py_ssize_t bo, Runs *out, int32_t *slot)
{
    Py_ssize_t words = (n + 63) / 64;
    if ((double)words * (double)m > BITS_MAX_WORDS)
        return 1;
    /* A matrix word costs some three Myers steps (a row stored, read back in the traceback:
       11 ns against 3-4 here), so a merge of two rewritten texts cannot pay for two whole ones. */
    int64_t cost = 3 * words * m + n + m;
    d->spent += cost;
    d->budget -= cost;
    if (d->budget < 0)
        return 1;
    /* Symbols of a, numbered locally: slot[id], an array over the ids that is zero between uses
       (0 "none", k + 1 the kth symbol; reset before returning). */
    int32_t *symbols = big_alloc((n ? n : 1) * sizeof(int32_t));
    Py_ssize_t distinct = 0;
    if (!symbols)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!slot[a[i]]) {
            slot[a[i]] = (int32_t)++distinct;
            symbols[distinct - 1] = a[i];
        }
    uint64_t *pm = big_calloc((size_t)distinct * words + 1, sizeof(uint64_t));
    uint64_t *rows = big_alloc((size_t)words * (m ? m : 1) * sizeof(uint64_t));
    uint64_t *v = big_alloc(words * sizeof(uint64_t));
    int status = 0;
    if (!pm || !rows || !v) {
        status = -1;
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        pm[(size_t)(slot[a[i]] - 1) * words + (i >> 6)] |= (uint64_t)1 << (i & 63);
    for (Py_ssize_t w = 0; w < words; w++)
        v[w] = ~(uint64_t)0;
    for (Py_ssize_t j = 0; j < m; j++) {
        int32_t k = slot[b[j]];
        if (k) {
            const uint64_t *match = pm + (size_t)(k - 1) * words;
            uint64_t carry = 0;
            for (Py_ssize_t w = 0; w < words; w++) {
                uint64_t u = v[w] & match[w];
                uint64_t sum = v[w] + u;
                uint64_t over = sum < v[w];
                uint64_t total = sum + carry;
                over |= total < sum;
                v[w] = total | (v[w] & ~match[w]);
                carry = over;
            }
        }
        memcpy(rows + (size_t)j * words, v, words * sizeof(uint64_t));
    }
    /* Back from the end: a set bit drops a[i-1]; else b[j-1] was inserted or the two match. */
    {
        Py_ssize_t i = n, j = m, matches = 0;
        Py_ssize_t *pairs = big_alloc(2 * ((n < m ? n : m) + 1) * sizeof(Py_ssize_t));
        if (!pairs) {
            status = -1;
            goto done;
        }
#define BIT(row, col) ((rows[(size_t)(row) * words + ((col) >> 6)] >> ((col) & 63)) & 1)
        while (i && j) {
            if (BIT(j - 1, i - 1)) {
                i--;
            } else {
                j--;
                if (j && !BIT(j - 1, i - 1)) {
                    /* b[j] inserted */
                } else {
                    i--;
                    if (a[i] != b[j]) { /* cannot happen; never trust it blindly */
                        status = 1;
                        break;
                    }
                    pairs[2 * matches] = i;
                    pairs[2 * matches + 1] = j;
                    matches++;
                }
            }
        }
#undef BIT
        for (Py_ssize_t k = matches - 1; k >= 0 && !status; k--)
            if (push_run(out, ao + pairs[2 * k], ao + pairs[2 * k] + 1, bo + pairs[2 * k + 1], bo + pairs[2 * k + 1] + 1))
                status = -1;
        big_free(pairs);
    }
done:
    for (Py_ssize_t k = 0; k < distinct; k++)
        slot[symbols[k]] = 0;
    big_free(symbols);
    big_free(pm);
    big_free(rows);
    big_free(v);
    return status;
}

/* The length of a longest common subsequence, by the same bit-parallel recurrence with no matrix
   kept (a step a word); -1 out of memory. */
static int64_t lcs_length(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m, int32_t *slot)
{
    Py_ssize_t words = (n + 63) / 64;
    d->spent += words * m + n + m;
    d->budget -= words * m + n + m;
    int32_t *symbols = big_alloc((n ? n : 1) * sizeof(int32_t));
    Py_ssize_t distinct = 0;
    if (!symbols)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!slot[a[i]]) {
            slot[a[i]] = (int32_t)++distinct;
            symbols[distinct - 1] = a[i];
        }
    uint64_t *pm = big_calloc((size_t)distinct * words + 1, sizeof(uint64_t));
    uint64_t *v = big_alloc(words * sizeof(uint64_t));
    int64_t length = -1;
    if (pm && v) {
        for (Py_ssize_t i = 0; i < n; i++)
            pm[(size_t)(slot[a[i]] - 1) * words + (i >> 6)] |= (uint64_t)1 << (i & 63);
        for (Py_ssize_t w = 0; w < words; w++)
            v[w] = ~(uint64_t)0;
        for (Py_ssize_t j = 0; j < m; j++) {
            int32_t k = slot[b[j]];
            if (!k)
                continue;
            const uint64_t *match = pm + (size_t)(k - 1) * words;
            uint64_t carry = 0;
            for (Py_ssize_t w = 0; w < words; w++) {
                uint64_t u = v[w] & match[w], sum = v[w] + u, over = sum < v[w], total = sum + carry;
                over |= total < sum;
                v[w] = total | (v[w] & ~match[w]);
                carry = over;
            }
        }
        length = 0; /* a zero bit of V (within a) is one more of the subsequence */
        for (Py_ssize_t i = 0; i < n; i++)
            length += !((v[i >> 6] >> (i & 63)) & 1);
    }
    for (Py_ssize_t k = 0; k < distinct; k++)
        slot[symbols[k]] = 0;
    big_free(symbols);
    big_free(pm);
    big_free(v);
    return length;
}

/* The same for a short old side (at most 64 tokens: one machine word) against at most 256: no
   allocation, so the many short pairs of sentences cost a few hundred steps each. */
#define WORD_ROWS 256
static int lcs_word(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m,
                    Py_ssize_t ao, Py_ssize_t bo, Runs *out, int32_t *slot)
{
    int32_t symbols[64];
    uint64_t pm[64] = {0}, rows[WORD_ROWS], v = ~(uint64_t)0;
    Py_ssize_t pairs[2 * 64], matches = 0, distinct = 0;
    int status = 0;
    d->spent += 2 * (n + m);
    d->budget -= 2 * (n + m);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!slot[a[i]]) {
            slot[a[i]] = (int32_t)++distinct;
            symbols[distinct - 1] = a[i];
        }
        pm[slot[a[i]] - 1] |= (uint64_t)1 << i;
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        int32_t k = slot[b[j]];
        if (k) {
            uint64_t u = v & pm[k - 1];
            v = (v + u) | (v & ~pm[k - 1]);
        }
        rows[j] = v;
    }
    Py_ssize_t i = n, j = m;
    while (i && j) {
        if ((rows[j - 1] >> (i - 1)) & 1) {
            i--;
        } else {
            j--;
            if (!j || ((rows[j - 1] >> (i - 1)) & 1)) {
                i--;
                if (a[i] != b[j]) {
                    status = 1;
                    break;
                }
                pairs[2 * matches] = i;
                pairs[2 * matches + 1] = j;
                matches++;
            }
        }
    }
    for (Py_ssize_t k = 0; k < distinct; k++)
        slot[symbols[k]] = 0;
    for (Py_ssize_t k = matches - 1; k >= 0 && !status; k--)
        if (push_run(out, ao + pairs[2 * k], ao + pairs[2 * k] + 1, bo + pairs[2 * k + 1], bo + pairs[2 * k + 1] + 1))
            status = -1;
    return status;
}

/* --- the levels ------------------------------------------------------------------------- */

static void compare(Diff *d, int level, Py_ssize_t oa, Py_ssize_t ob, Py_ssize_t na, Py_ssize_t nb);

/* Tell whether fewer than a quarter of the tokens are shared, the commonest left aside (diffing._rewritten);
   *common: how many tokens the two share as multisets (no common subsequence is longer). */
static int rewritten(Diff *d, const int32_t *a, Py_ssize_t n, const int32_t *b, Py_ssize_t m, int64_t *common)
{
    int32_t *ca = d->count_old, *cb = d->count_new;
    for (Py_ssize_t k = 0; k < n; k++)
        ca[a[k]]++;
    for (Py_ssize_t k = 0; k < m; k++)
        cb[b[k]]++;
    int64_t shared = 0;
    int32_t best = 0, commonest_shared = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        int32_t id = a[k], times = ca[id];
        if (times <= 0)
            continue; /* counted already */
        int32_t both = times < cb[id] ? times : cb[id];
        shared += both;
        if (times > best) {
            best = times;
            commonest_shared = both;
        }
        ca[id] = -times;
    }
    for (Py_ssize_t k = 0; k < n; k++)
        ca[a[k]] = 0;
    for (Py_ssize_t k = 0; k < m; k++)
        cb[b[k]] = 0;
    d->spent += 2 * (n + m);
    d->budget -= 2 * (n + m);
    Py_ssize_t shorter = n < m ? n : m;
    *common = shared;
    return shared == 0 || 4 * (shared - commonest_shared) < shorter;
}

static void compare_tokens(Diff *d, Py_ssize_t oa, Py_ssize_t ob, Py_ssize_t na, Py_ssize_t nb)
{
    const int32_t *a = d->old.ids + oa, *b = d->new.ids + na;
    Py_ssize_t n = ob - oa, m = nb - na;
    int64_t common = n < m ? n : m;
    if ((n < m ? n : m) > REWRITE_MIN && rewritten(d, a, n, b, m, &common)) {
        emit_change(d, oa, ob, na, nb);
        return;
    }
    Runs *runs = d->token_runs;
    runs->count = 0;
    /* By a bit-parallel LCS, whose cost does not grow with the differences: in one machine word for
       a short old side, else over a matrix for long ranges; Myers between (and when the matrix
       would be too big). All find a longest common subsequence. */
    int status = n <= 64 && m <= WORD_ROWS ? lcs_word(d, a, n, b, m, oa, na, runs, d->count_new)
                 : n + m > BITS_FROM ? lcs_bits(d, a, n, b, m, oa, na, runs, d->count_new) : 1;
    if (status > 0) {
        /* Myers' search costs at least (D / 2)^2 cells for D differences; D is at least what the
           two do not share as multisets, and where the matrix was refused it is counted exactly
           (a pass of the same recurrence without the matrix). A search the budget cannot pay for
           is not begun: it would end as one replacement, its whole budget spent (80 ms for two
           rewritten 100 KB paragraphs). */
        if (n + m > BITS_FROM && d->budget > 0) { /* the matrix was refused: the exact count first */
            common = lcs_length(d, a, n, b, m, d->count_new);
            if (common < 0) {
                d->failed = 1;
                return;
            }
        }
        int64_t half = (n + m - 2 * common) / 2;
        if (half * half > d->budget) {
            d->spent += half * half;
            d->budget -= half * half;
            emit_change(d, oa, ob, na, nb);
            return;
        }
        runs->count = 0;
        status = align(d, a, n, b, m, oa, na, runs);
    }
    if (status) {
        if (status < 0)
            d->failed = 1;
        emit_change(d, oa, ob, na, nb);
    } else {
        Py_ssize_t i0 = oa, j0 = na;
        for (Py_ssize_t r = 0; r < runs->count; r++) {
            Py_ssize_t *run = runs->runs + 4 * r;
            emit_change(d, i0, run[0], j0, run[2]);
            i0 = run[1];
            j0 = run[3];
        }
        emit_change(d, i0, ob, j0, nb);
    }
}

/* Units of a level in tokens [from, to): the token index after each unit's end. */
static Py_ssize_t split_units(const Side *side, int level, Py_ssize_t from, Py_ssize_t to, Py_ssize_t *ends)
{
    const Py_ssize_t *stops = side->stops[level == PARAGRAPHS];
    Py_ssize_t nstops = side->nstops[level == PARAGRAPHS], low = 0, high = nstops, count = 0;
    if (from >= to)
        return 0;
    while (low < high) { /* the first stop at or after from */
        Py_ssize_t middle = low + (high - low) / 2;
        if (stops[middle] < from)
            low = middle + 1;
        else
            high = middle;
    }
    for (Py_ssize_t k = low; k < nstops && stops[k] < to - 1; k++)
        ends[count++] = stops[k] + 1;
    ends[count++] = to;
    return count;
}

/* Ids of the units of both sides (equal token runs, equal id); the number of distinct units or -1. */
static Py_ssize_t unit_ids(const Side *old, const Py_ssize_t *old_ends, Py_ssize_t nold, Py_ssize_t old_from,
                           const Side *new, const Py_ssize_t *new_ends, Py_ssize_t nnew, Py_ssize_t new_from,
                           int32_t *ids, const uint64_t *powers)
{
    size_t size = table_size(nold + nnew), mask = size - 1;
    Slot *slots = big_calloc(size, sizeof(Slot));
    if (!slots)
        return -1;
    int32_t next = 0;
    for (int which = 0; which < 2; which++) {
        const Side *side = which ? new : old;
        const Py_ssize_t *ends = which ? new_ends : old_ends;
        Py_ssize_t count = which ? nnew : nold, start = which ? new_from : old_from;
        for (Py_ssize_t u = 0; u < count; u++) {
            const int32_t *tokens = side->ids + start;
            Py_ssize_t len = ends[u] - start;
            uint64_t h = side->prefix[ends[u]] - side->prefix[start] * powers[len];
            h ^= h >> 29; /* the low bits pick the slot: mix the high ones in */
            h *= 0xBF58476D1CE4E5B9ULL;
            h ^= h >> 32;
            size_t at = h & mask;
            while (slots[at].text) {
                if (slots[at].hash == h && slots[at].len == len
                    && !memcmp(slots[at].text, tokens, len * sizeof(int32_t)))
                    break;
                at = (at + 1) & mask;
            }
            if (!slots[at].text) {
                slots[at].hash = h;
                slots[at].text = (const uint32_t *)tokens;
                slots[at].len = len;
                slots[at].id = next++;
            }
            ids[which ? nold + u : u] = slots[at].id;
            start = ends[u];
        }
    }
    big_free(slots);
    return next;
}

static int split_at_shared_ends(Diff *d, const Py_ssize_t *old_ends, Py_ssize_t oa_unit, Py_ssize_t ob_unit,
                                Py_ssize_t old_from, const Py_ssize_t *new_ends, Py_ssize_t na_unit,
                                Py_ssize_t nb_unit, Py_ssize_t new_from);

/* A changed run of units: pairwise at the next level when the counts match; sentences whose counts
   differ (a full stop typed or deleted) first split where both sides end a sentence alike; else as
   one stretch. */
static void changed(Diff *d, int level, const Py_ssize_t *old_ends, Py_ssize_t oa_unit, Py_ssize_t ob_unit,
                    Py_ssize_t old_from, const Py_ssize_t *new_ends, Py_ssize_t na_unit, Py_ssize_t nb_unit,
                    Py_ssize_t new_from)
{
    Py_ssize_t o_start = oa_unit ? old_ends[oa_unit - 1] : old_from;
    Py_ssize_t n_start = na_unit ? new_ends[na_unit - 1] : new_from;
    Py_ssize_t o_end = ob_unit ? old_ends[ob_unit - 1] : old_from;
    Py_ssize_t n_end = nb_unit ? new_ends[nb_unit - 1] : new_from;
    Py_ssize_t count = ob_unit - oa_unit;
    if (count > 0 && count == nb_unit - na_unit) {
        for (Py_ssize_t u = 0; u < count; u++) {
            if (d->budget <= 0) { /* the rest as one replacement */
                emit_change(d, o_start, o_end, n_start, n_end);
                return;
            }
            Py_ssize_t o_next = old_ends[oa_unit + u], n_next = new_ends[na_unit + u];
            compare(d, level + 1, o_start, o_next, n_start, n_next);
            o_start = o_next;
            n_start = n_next;
        }
    } else if (!(level == SENTENCES && count > 1 && nb_unit - na_unit > 1
                 && !split_at_shared_ends(d, old_ends, oa_unit, ob_unit, old_from, new_ends, na_unit, nb_unit,
                                          new_from))) {
        compare(d, level + 1, o_start, o_end, n_start, n_end);
    }
}

#define END_CONTEXT 3 /* tokens on each side of a sentence end that must be equal for the ends to pair */

/* The sentence ends inside a changed run whose counts differ, keyed by the tokens around them, are
   aligned (an LCS of the keys); the run is cut at the ends paired and each piece compared in tokens
   as one stretch (not pairwise: an end not paired may be one moved). One deleted full stop then
   costs two sentences compared as a stretch, not the whole run: a bit-parallel alignment of every
   sentence of a paragraph whose ends all moved. 0 done, 1 nothing paired (the caller compares the run). */
static int split_at_shared_ends(Diff *d, const Py_ssize_t *old_ends, Py_ssize_t oa_unit, Py_ssize_t ob_unit,
                                Py_ssize_t old_from, const Py_ssize_t *new_ends, Py_ssize_t na_unit,
                                Py_ssize_t nb_unit, Py_ssize_t new_from)
{
    Py_ssize_t p = ob_unit - oa_unit - 1, q = nb_unit - na_unit - 1; /* the ends inside the run */
    Py_ssize_t lows[2] = {oa_unit ? old_ends[oa_unit - 1] : old_from, na_unit ? new_ends[na_unit - 1] : new_from};
    Py_ssize_t highs[2] = {old_ends[ob_unit - 1], new_ends[nb_unit - 1]};
    d->spent += (p + q) * (2 * END_CONTEXT + 1);
    d->budget -= (p + q) * (2 * END_CONTEXT + 1);
    if (d->budget <= 0)
        return 1;
    size_t size = table_size(p + q), mask = size - 1;
    Slot *slots = big_calloc(size, sizeof(Slot));
    int32_t *keys = big_alloc((p + q) * sizeof(int32_t));
    Runs runs = {0};
    int status = !slots || !keys ? -1 : 0;
    int32_t next = 0;
    for (int which = 0; which < 2 && !status; which++) {
        const Side *side = which ? &d->new : &d->old;
        const Py_ssize_t *ends = which ? new_ends + na_unit : old_ends + oa_unit;
        Py_ssize_t count = which ? q : p;
        for (Py_ssize_t u = 0; u < count; u++) {
            Py_ssize_t at = ends[u] - END_CONTEXT;
            if (at < lows[which] || ends[u] + END_CONTEXT > highs[which]) {
                keys[which ? p + u : u] = -1 - (int32_t)(which ? p + u : u); /* too near the run's edge: pairs with none */
                continue;
            }
            const int32_t *tokens = side->ids + at;
            uint64_t h = 1469598103934665603ULL;
            for (Py_ssize_t k = 0; k < 2 * END_CONTEXT; k++) {
                h ^= (uint32_t)tokens[k];
                h *= 1099511628211ULL;
            }
            size_t slot = h & mask;
            while (slots[slot].text) {
                if (slots[slot].hash == h && !memcmp(slots[slot].text, tokens, 2 * END_CONTEXT * sizeof(int32_t)))
                    break;
                slot = (slot + 1) & mask;
            }
            if (!slots[slot].text) {
                slots[slot].hash = h;
                slots[slot].text = (const uint32_t *)tokens;
                slots[slot].len = 2 * END_CONTEXT;
                slots[slot].id = next++;
            }
            keys[which ? p + u : u] = slots[slot].id;
        }
    }
    big_free(slots);
    if (!status)
        status = align(d, keys, p, keys + p, q, 0, 0, &runs);
    big_free(keys);
    if (status || !runs.count) {
        if (status < 0)
            d->failed = 1;
        big_free(runs.runs);
        return status < 0 ? 0 : 1;
    }
    Py_ssize_t at_old = lows[0], at_new = lows[1]; /* where the next piece starts, in tokens */
    for (Py_ssize_t r = 0; r < runs.count; r++) {
        Py_ssize_t *run = runs.runs + 4 * r;
        for (Py_ssize_t k = run[0]; k < run[1]; k++) {
            Py_ssize_t to_old = old_ends[oa_unit + k], to_new = new_ends[na_unit + run[2] + (k - run[0])];
            compare(d, TOKENS, at_old, to_old, at_new, to_new);
            at_old = to_old;
            at_new = to_new;
        }
    }
    big_free(runs.runs);
    compare(d, TOKENS, at_old, highs[0], at_new, highs[1]);
    return 0;
}

static void compare(Diff *d, int level, Py_ssize_t oa, Py_ssize_t ob, Py_ssize_t na, Py_ssize_t nb)
{
    if (d->failed)
        return;
    const int32_t *a = d->old.ids, *b = d->new.ids;
    Py_ssize_t head = 0;
    while (oa + head < ob && na + head < nb && a[oa + head] == b[na + head])
        head++;
    oa += head;
    na += head;
    Py_ssize_t tail = 0;
    while (oa < ob - tail && na < nb - tail && a[ob - 1 - tail] == b[nb - 1 - tail])
        tail++;
    ob -= tail;
    nb -= tail;
    d->spent += head + tail + 40;
    d->budget -= head + tail + 40;
    if (oa == ob || na == nb || d->budget <= 0) {
        emit_change(d, oa, ob, na, nb);
        return;
    }
    Py_ssize_t chars = d->old.bounds[ob] - d->old.bounds[oa] + d->new.bounds[nb] - d->new.bounds[na];
    if (level >= TOKENS || chars < SHORT) {
        compare_tokens(d, oa, ob, na, nb);
        return;
    }
    Py_ssize_t *old_ends = big_alloc((ob - oa + nb - na) * sizeof(Py_ssize_t));
    int32_t *ids = big_alloc((ob - oa + nb - na) * sizeof(int32_t));
    if (!old_ends || !ids) {
        big_free(old_ends);
        big_free(ids);
        d->failed = 1;
        return;
    }
    Py_ssize_t *new_ends = old_ends + (ob - oa);
    Py_ssize_t nold = split_units(&d->old, level, oa, ob, old_ends);
    Py_ssize_t nnew = split_units(&d->new, level, na, nb, new_ends);
    d->spent += ob - oa + nb - na;
    d->budget -= ob - oa + nb - na;
    if (nold == 1 && nnew == 1) {
        big_free(old_ends);
        big_free(ids);
        compare(d, level + 1, oa, ob, na, nb);
        return;
    }
    Py_ssize_t distinct = unit_ids(&d->old, old_ends, nold, oa, &d->new, new_ends, nnew, na, ids, d->powers);
    Runs runs = {0};
    int status = distinct < 0 ? -1 : 0;
    if (!status) {
        /* Nothing shared: no alignment to search for, the whole is one changed run. Else a
           bit-parallel LCS of the units: most units of a changed run differ (every sentence of a
           paragraph edited throughout), where Myers' search costs the square of the differences. */
        int shared = 0;
        int32_t *slot = big_calloc(distinct ? distinct : 1, sizeof(int32_t));
        if (!slot)
            status = -1;
        else {
            for (Py_ssize_t u = 0; u < nold; u++)
                slot[ids[u]] = 1;
            for (Py_ssize_t u = 0; u < nnew && !shared; u++)
                shared = slot[ids[nold + u]];
            for (Py_ssize_t u = 0; u < nold; u++)
                slot[ids[u]] = 0;
            if (shared) {
                status = nold <= 64 && nnew <= WORD_ROWS ? lcs_word(d, ids, nold, ids + nold, nnew, 0, 0, &runs, slot)
                         : lcs_bits(d, ids, nold, ids + nold, nnew, 0, 0, &runs, slot);
                if (status > 0) {
                    runs.count = 0;
                    status = align(d, ids, nold, ids + nold, nnew, 0, 0, &runs);
                }
            }
            big_free(slot);
        }
    }
    if (status) {
        if (status < 0)
            d->failed = 1;
        emit_change(d, oa, ob, na, nb);
    } else {
        Py_ssize_t i0 = 0, j0 = 0;
        for (Py_ssize_t r = 0; r <= runs.count; r++) {
            Py_ssize_t i1 = r < runs.count ? runs.runs[4 * r] : nold, j1 = r < runs.count ? runs.runs[4 * r + 2] : nnew;
            if (i1 > i0 || j1 > j0)
                changed(d, level, old_ends, i0, i1, oa, new_ends, j0, j1, na);
            if (r < runs.count) {
                Py_ssize_t i2 = runs.runs[4 * r + 1], j2 = runs.runs[4 * r + 3];
                i0 = i2;
                j0 = j2;
            }
        }
    }
    big_free(runs.runs);
    big_free(old_ends);
    big_free(ids);
}

/* --- for people: short unchanged stretches folded into the edits around them --------------- */

/* Join hunk k + 1 into hunk k wherever fold[k + 1] is set (the equality before it goes too). */
static void join_folded(Diff *d, const uint8_t *fold)
{
    Py_ssize_t kept = 0;
    for (Py_ssize_t k = 0; k < d->nhunks; k++) {
        Py_ssize_t *hunk = d->hunks + 4 * k;
        if (k && fold[k]) {
            Py_ssize_t *last = d->hunks + 4 * (kept - 1);
            last[1] = hunk[1];
            last[3] = hunk[3];
        } else {
            memmove(d->hunks + 4 * kept, hunk, 4 * sizeof(Py_ssize_t));
            kept++;
        }
    }
    d->nhunks = kept;
}

/* diffing._absorb_equalities on hunks: an equality no longer than the edits on both its sides
   (or than floor) is folded into them; a stack makes the cascade linear. */
static int absorb(Diff *d, Py_ssize_t floor)
{
    Py_ssize_t k_count = d->nhunks;
    if (k_count < 2)
        return 0;
    uint8_t *fold = big_calloc(k_count, 1);
    /* standing equalities: the hunk after each, and the (inserted, deleted) just before it */
    Py_ssize_t *stack = big_alloc(3 * (k_count + 1) * sizeof(Py_ssize_t));
    if (!fold || !stack) {
        big_free(fold);
        big_free(stack);
        return -1;
    }
    Py_ssize_t top = 0, after_ins = 0, after_del = 0;
    for (Py_ssize_t k = 0; k < k_count; k++) {
        Py_ssize_t *hunk = d->hunks + 4 * k;
        Py_ssize_t equal_from = k ? d->hunks[4 * (k - 1) + 1] : 0;
        if (hunk[0] > equal_from) { /* an equality stands before this hunk */
            stack[3 * top] = k;
            stack[3 * top + 1] = after_ins;
            stack[3 * top + 2] = after_del;
            top++;
            after_ins = after_del = 0;
        }
        after_ins += hunk[3] - hunk[2];
        after_del += hunk[1] - hunk[0];
        while (top) {
            Py_ssize_t at = stack[3 * (top - 1)], before_ins = stack[3 * (top - 1) + 1],
                       before_del = stack[3 * (top - 1) + 2];
            Py_ssize_t size = d->hunks[4 * at] - (at ? d->hunks[4 * (at - 1) + 1] : 0);
            Py_ssize_t before = before_ins > before_del ? before_ins : before_del;
            Py_ssize_t after = after_ins > after_del ? after_ins : after_del;
            if (size > floor && (size > before || size > after))
                break;
            fold[at] = 1; /* at == 0 never folds: nothing stands before it (size > 0 = before) */
            top--;
            after_ins += before_ins + size;
            after_del += before_del + size;
        }
    }
    join_folded(d, fold);
    big_free(fold);
    big_free(stack);
    return 0;
}

/* diffing._bound_changes on hunks: at most limit changed pieces (a hunk deletes and/or inserts),
   the shortest equalities between hunks folded first. */
static Py_ssize_t *sort_lengths;
static int by_length(const void *x, const void *y)
{
    Py_ssize_t a = *(const Py_ssize_t *)x, b = *(const Py_ssize_t *)y;
    if (sort_lengths[a] != sort_lengths[b])
        return sort_lengths[a] < sort_lengths[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int bound(Diff *d, Py_ssize_t limit)
{
    Py_ssize_t changes = 0, k_count = d->nhunks;
    for (Py_ssize_t k = 0; k < k_count; k++) {
        Py_ssize_t *hunk = d->hunks + 4 * k;
        changes += (hunk[1] > hunk[0]) + (hunk[3] > hunk[2]);
    }
    if (changes <= limit || k_count < 2)
        return 0;
    Py_ssize_t folds = k_count - limit / 2;
    if (folds <= 0)
        return 0;
    if (folds > k_count - 1)
        folds = k_count - 1;
    Py_ssize_t *lengths = big_alloc(k_count * sizeof(Py_ssize_t));
    Py_ssize_t *order = big_alloc((k_count - 1) * sizeof(Py_ssize_t));
    uint8_t *fold = big_calloc(k_count, 1);
    if (!lengths || !order || !fold) {
        big_free(lengths);
        big_free(order);
        big_free(fold);
        return -1;
    }
    for (Py_ssize_t k = 1; k < k_count; k++) {
        lengths[k] = d->hunks[4 * k] - d->hunks[4 * (k - 1) + 1];
        order[k - 1] = k;
    }
    sort_lengths = lengths; /* qsort has no context argument; the GIL is held here */
    qsort(order, k_count - 1, sizeof(Py_ssize_t), by_length);
    for (Py_ssize_t k = 0; k < folds; k++)
        fold[order[k]] = 1;
    join_folded(d, fold);
    big_free(lengths);
    big_free(order);
    big_free(fold);
    return 0;
}

/* --- Python ------------------------------------------------------------------------------ */

static uint32_t *code_points(PyObject *text, Py_ssize_t *length, uint32_t *highest)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    uint32_t *s = big_alloc((n ? n : 1) * sizeof(uint32_t));
    if (!s)
        return NULL;
    uint32_t top = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        s[i] = PyUnicode_READ(kind, data, i);
        if (s[i] > top)
            top = s[i];
    }
    *length = n;
    *highest = top;
    return s;
}

static int prepare(Side *side, int plain, int spaced)
{
    side->bounds = big_alloc((side->n + 1) * sizeof(Py_ssize_t));
    if (!side->bounds)
        return -2;
    side->ends = big_alloc(side->n + 1);
    if (!side->ends)
        return -2;
    side->count = tokenize(side->s, side->n, plain, spaced, side->bounds, side->ends);
    if (side->count < 0)
        return -1;
    side->ids = big_alloc((side->count + 1) * sizeof(int32_t));
    return side->ids ? 0 : -2;
}

#define HASH_BASE 0x9E3779B97F4A7C15ULL

/* After tokenising: token ids over the sides (a diff's two, or a merge's base and both sides),
   arrays counting each id (zero between uses), each side's unit hashes and stops, and the powers
   they need; 0, or -2 out of memory. */
static int index_sides(Diff *d, Side **sides, int nsides)
{
    int32_t distinct = assign_token_ids(sides, nsides);
    d->count_old = distinct < 0 ? NULL : big_calloc(2 * (size_t)(distinct ? distinct : 1), sizeof(int32_t));
    if (!d->count_old)
        return -2;
    d->count_new = d->count_old + (distinct ? distinct : 1);
    Py_ssize_t longest = 0;
    for (int which = 0; which < nsides; which++) {
        Side *side = sides[which];
        if (side->count > longest)
            longest = side->count;
        side->prefix = big_alloc((side->count + 1) * sizeof(uint64_t));
        Py_ssize_t marked = 0, paragraphs = 0;
        for (Py_ssize_t k = 0; k < side->count; k++) {
            marked += side->ends[k] != 0;
            paragraphs += side->ends[k] == 2;
        }
        side->stops[0] = big_alloc((marked + paragraphs + 1) * sizeof(Py_ssize_t));
        if (!side->prefix || !side->stops[0])
            return -2;
        side->stops[1] = side->stops[0] + marked;
        side->nstops[0] = side->nstops[1] = 0;
        uint64_t h = 0;
        side->prefix[0] = 0;
        for (Py_ssize_t k = 0; k < side->count; k++) {
            h = h * HASH_BASE + (uint64_t)side->ids[k] + 1;
            side->prefix[k + 1] = h;
            if (side->ends[k]) {
                side->stops[0][side->nstops[0]++] = k;
                if (side->ends[k] == 2)
                    side->stops[1][side->nstops[1]++] = k;
            }
        }
    }
    d->powers = big_alloc((longest + 1) * sizeof(uint64_t));
    if (!d->powers)
        return -2;
    d->powers[0] = 1;
    for (Py_ssize_t k = 1; k <= longest; k++)
        d->powers[k] = d->powers[k - 1] * HASH_BASE;
    return 0;
}

/* The changes from d->old to d->new into d->hunks, on budget (numbering the tokens charged first,
   as they were numbered for this diff alone); 0, or -2 out of memory. */
static int run_diff(Diff *d, long long budget)
{
    d->nhunks = 0;
    d->failed = 0;
    d->spent = d->old.count + d->new.count;
    d->budget = budget - (d->old.count + d->new.count);
    compare(d, PARAGRAPHS, 0, d->old.count, 0, d->new.count);
    return d->failed ? -2 : 0;
}

static void release_side(Side *side)
{
    big_free(side->s);
    big_free(side->bounds);
    big_free(side->ids);
    big_free(side->ends);
    big_free(side->prefix);
    big_free(side->stops[0]);
}

/* What a diff holds besides its sides. */
static void release_work(Diff *d)
{
    big_free(d->count_old);
    big_free(d->hunks);
    big_free(d->scratch);
    big_free(d->token_runs->runs);
    big_free(d->powers);
}

static void release(Diff *d)
{
    release_side(&d->old);
    release_side(&d->new);
    release_work(d);
}

static PyObject *int_list(const Py_ssize_t *values, Py_ssize_t count)
{
    PyObject *list = PyList_New(count);
    for (Py_ssize_t k = 0; list && k < count; k++) {
        PyObject *value = PyLong_FromSsize_t(values[k]);
        if (!value) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, k, value);
    }
    return list;
}

PyDoc_STRVAR(diff_doc,
"diff(old, new, spaced, budget, floor=-1, limit=0) -> (hunks, work) or None\n\n"
"The changes turning old into new, in tokens (spaced: with the spaces after them, as merges cut\n"
"them), as a flat list [old_start, old_end, new_start, new_end, ...] of character offsets, in\n"
"order; what lies between them is equal. work is the steps spent; past budget the rest is\n"
"replaced whole. floor >= 0: equalities no longer than the edits around them (or than floor) are\n"
"folded into them; limit > 0: at most limit changed pieces (diffing.diff_ops for people).\n"
"None when a text holds a grapheme cluster this code does not model.");

static PyObject *textcore_diff(PyObject *module, PyObject *args)
{
    PyObject *old_text, *new_text;
    int spaced;
    long long budget;
    Py_ssize_t floor = -1, limit = 0;
    if (!PyArg_ParseTuple(args, "UUpL|nn", &old_text, &new_text, &spaced, &budget, &floor, &limit))
        return NULL;
    Diff d;
    Runs token_runs = {0};
    memset(&d, 0, sizeof d);
    d.token_runs = &token_runs;
    uint32_t top_old, top_new;
    d.old.s = code_points(old_text, &d.old.n, &top_old);
    d.new.s = code_points(new_text, &d.new.n, &top_new);
    if (!d.old.s || !d.new.s) {
        release(&d);
        return PyErr_NoMemory();
    }
    d.plain = top_old < PLAIN_BELOW && top_new < PLAIN_BELOW;
    int status = 0;
    Py_BEGIN_ALLOW_THREADS
    status = prepare(&d.old, d.plain, spaced);
    if (!status)
        status = prepare(&d.new, d.plain, spaced);
    if (!status) {
        Side *sides[2] = {&d.old, &d.new};
        status = index_sides(&d, sides, 2);
    }
    if (!status)
        status = run_diff(&d, budget);
    Py_END_ALLOW_THREADS
    if (status == -1) {
        release(&d);
        Py_RETURN_NONE;
    }
    if (!status && floor >= 0)
        status = absorb(&d, floor) ? -2 : 0;
    if (!status && limit > 0)
        status = bound(&d, limit) ? -2 : 0;
    if (status) {
        release(&d);
        return PyErr_NoMemory();
    }
    PyObject *hunks = int_list(d.hunks, 4 * d.nhunks);
    if (!hunks) {
        release(&d);
        return NULL;
    }
    long long spent = d.spent;
    release(&d);
    return Py_BuildValue("(NL)", hunks, spent);
}

PyDoc_STRVAR(tokenize_doc,
"tokenize(text, spaced, plain) -> list of token edges, or None\n\n"
"The offsets where tokens start, and the text's length (tests compare them with the patterns).");

static PyObject *textcore_tokenize(PyObject *module, PyObject *args)
{
    PyObject *text;
    int spaced, plain;
    if (!PyArg_ParseTuple(args, "Upp", &text, &spaced, &plain))
        return NULL;
    Py_ssize_t n;
    uint32_t top;
    uint32_t *s = code_points(text, &n, &top);
    Py_ssize_t *bounds = s ? big_alloc((n + 1) * sizeof(Py_ssize_t)) : NULL;
    if (!bounds) {
        big_free(s);
        return PyErr_NoMemory();
    }
    if (plain && top >= PLAIN_BELOW) {
        big_free(s);
        big_free(bounds);
        PyErr_SetString(PyExc_ValueError, "plain tokens are for text below U+0300");
        return NULL;
    }
    Py_ssize_t count = tokenize(s, n, plain, spaced, bounds, NULL);
    PyObject *result;
    if (count < 0) {
        result = Py_None;
        Py_INCREF(result);
    } else {
        result = PyList_New(count + 1);
        for (Py_ssize_t k = 0; result && k <= count; k++) {
            PyObject *value = PyLong_FromSsize_t(bounds[k]);
            if (!value) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, k, value);
        }
    }
    big_free(s);
    big_free(bounds);
    return result;
}

/* --- the merge of two sides' edits (merge.merge_texts' clusters) -------------------------- */

typedef struct {
    Py_ssize_t start, end, from, to; /* base[start:end] becomes text[from:to] of its side */
    int side;                        /* 0 mine, 1 theirs */
} Edit;

static int read_ranges(PyObject *list, int side, Edit *edits, Py_ssize_t *count)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t k = 0; k + 3 < n; k += 4) {
        Edit *edit = edits + (*count)++;
        edit->start = PyLong_AsSsize_t(PyList_GET_ITEM(list, k));
        edit->end = PyLong_AsSsize_t(PyList_GET_ITEM(list, k + 1));
        edit->from = PyLong_AsSsize_t(PyList_GET_ITEM(list, k + 2));
        edit->to = PyLong_AsSsize_t(PyList_GET_ITEM(list, k + 3));
        edit->side = side;
        if (PyErr_Occurred())
            return -1;
    }
    return 0;
}

static int by_place(const void *x, const void *y)
{
    const Edit *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return a->side - b->side;
}

/* Tell whether an edit starting at start meets one ending at end: only spaces between. */
static int touches(const uint32_t *base, Py_ssize_t end, Py_ssize_t start)
{
    if (start < end)
        return 1;
    for (Py_ssize_t i = end; i < start; i++)
        if (!(full_flags(base[i]) & F_PYSPACE))
            return 0;
    return 1;
}

typedef struct {
    uint32_t *text;
    Py_ssize_t length, cap;
} Buffer;

static int put(Buffer *buffer, const uint32_t *text, Py_ssize_t length)
{
    if (length <= 0)
        return 0;
    if (buffer->length + length > buffer->cap) {
        Py_ssize_t cap = buffer->cap ? buffer->cap : 256;
        while (cap < buffer->length + length)
            cap *= 2;
        uint32_t *grown = big_realloc(buffer->text, cap * sizeof(uint32_t));
        if (!grown)
            return -1;
        buffer->text = grown;
        buffer->cap = cap;
    }
    memcpy(buffer->text + buffer->length, text, length * sizeof(uint32_t));
    buffer->length += length;
    return 0;
}

/* One side's version of base[start:end]: its edits among edits[first:last] applied. */
static int version(Buffer *out, const uint32_t *base, const uint32_t *texts[2], const Edit *edits,
                   Py_ssize_t first, Py_ssize_t last, int side, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t at = start;
    for (Py_ssize_t k = first; k < last; k++) {
        const Edit *edit = edits + k;
        if (edit->side != side)
            continue;
        if (put(out, base + at, edit->start - at) || put(out, texts[side] + edit->from, edit->to - edit->from))
            return -1;
        at = edit->end;
    }
    return put(out, base + at, end - at);
}

/* Both sides' edits of base (sorted here) grouped where only spaces of base lie between them: the
   merged text into merged, or the base ranges both sides changed differently into conflicts
   (room for one pair per edit); 0, or 1 out of memory. */
static int group_edits(const uint32_t *base, Py_ssize_t base_n, const uint32_t *texts[2], Edit *edits,
                       Py_ssize_t count, Buffer *merged, Py_ssize_t *conflicts, Py_ssize_t *nconflicts)
{
    Buffer one = {0}, other = {0};
    int failed = 0;
    qsort(edits, count, sizeof(Edit), by_place);
    Py_ssize_t at = 0, k = 0;
    while (k < count && !failed) {
        Py_ssize_t first = k, start = edits[k].start, end = edits[k].end;
        int sides = 1 << edits[k].side;
        for (k++; k < count && touches(base, end, edits[k].start); k++) {
            if (edits[k].end > end)
                end = edits[k].end;
            sides |= 1 << edits[k].side;
        }
        if (sides == 3) { /* both sides edited here: the same text, or a conflict */
            one.length = other.length = 0;
            if (version(&one, base, texts, edits, first, k, 0, start, end)
                || version(&other, base, texts, edits, first, k, 1, start, end)) {
                failed = 1;
                break;
            }
            if (one.length != other.length || memcmp(one.text, other.text, one.length * sizeof(uint32_t))) {
                conflicts[2 * *nconflicts] = start;
                conflicts[2 * *nconflicts + 1] = end;
                (*nconflicts)++;
                continue;
            }
        }
        if (*nconflicts)
            continue; /* the merged text is not needed any more */
        if (put(merged, base + at, start - at)
            || version(merged, base, texts, edits, first, k, sides == 3 ? 0 : edits[first].side, start, end))
            failed = 1;
        at = end;
    }
    if (!failed && !*nconflicts && put(merged, base + at, base_n - at))
        failed = 1;
    big_free(one.text);
    big_free(other.text);
    return failed;
}

static PyObject *merged_text(const Buffer *merged)
{
    static const uint32_t nothing[1] = {0};
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, merged->text ? merged->text : nothing, merged->length);
}

PyDoc_STRVAR(merge_doc,
"merge(base, mine, theirs, mine_ranges, theirs_ranges) -> str or list of conflicts\n\n"
"Both sides' changes of base (as diff gives them, spaced) grouped where only spaces of base lie\n"
"between them; a group both sides changed differently is a conflict. The merged text, or a flat\n"
"[start, end, ...] of the conflicting base ranges.");

static PyObject *textcore_merge(PyObject *module, PyObject *args)
{
    PyObject *base_text, *mine_text, *theirs_text, *mine_list, *theirs_list;
    if (!PyArg_ParseTuple(args, "UUUO!O!", &base_text, &mine_text, &theirs_text, &PyList_Type, &mine_list,
                          &PyList_Type, &theirs_list))
        return NULL;
    Py_ssize_t base_n, mine_n, theirs_n, count = 0;
    uint32_t top;
    uint32_t *base = code_points(base_text, &base_n, &top);
    uint32_t *mine = code_points(mine_text, &mine_n, &top);
    uint32_t *theirs = code_points(theirs_text, &theirs_n, &top);
    Py_ssize_t total = (PyList_GET_SIZE(mine_list) + PyList_GET_SIZE(theirs_list)) / 4;
    Edit *edits = big_alloc((total ? total : 1) * sizeof(Edit));
    Buffer merged = {0};
    Py_ssize_t *conflicts = NULL, nconflicts = 0;
    PyObject *result = NULL;
    if (!base || !mine || !theirs || !edits) {
        PyErr_NoMemory();
        goto done;
    }
    if (read_ranges(mine_list, 0, edits, &count) || read_ranges(theirs_list, 1, edits, &count))
        goto done;
    for (Py_ssize_t k = 0; k < count; k++) {
        const Edit *edit = edits + k;
        Py_ssize_t side_n = edit->side ? theirs_n : mine_n;
        if (edit->start < 0 || edit->start > edit->end || edit->end > base_n || edit->from < 0
            || edit->from > edit->to || edit->to > side_n) {
            PyErr_SetString(PyExc_ValueError, "a range lies outside its text");
            goto done;
        }
    }
    conflicts = big_alloc(2 * (count ? count : 1) * sizeof(Py_ssize_t));
    if (!conflicts) {
        PyErr_NoMemory();
        goto done;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint32_t *texts[2] = {mine, theirs};
    failed = group_edits(base, base_n, texts, edits, count, &merged, conflicts, &nconflicts);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = nconflicts ? int_list(conflicts, 2 * nconflicts) : merged_text(&merged);
done:
    big_free(base);
    big_free(mine);
    big_free(theirs);
    big_free(edits);
    big_free(conflicts);
    big_free(merged.text);
    return result;
}

PyDoc_STRVAR(merge_texts_doc,
"merge_texts(base, mine, theirs, remaining, steps) -> (text, mine_ranges, theirs_ranges, conflicts,\n"
"remaining) or None\n\n"
"merge.merge_texts' two diffs (spaced) and the grouping of their changes in one call, base read and\n"
"tokenised once. Each diff is diffing.change_ranges': none for an equal side; one replacement once\n"
"nothing of the budget is left; else on remaining * steps, charged work // steps and its range\n"
"count. Clean: the merged text, the rest None. Else None, both sides' ranges (bytes of Py_ssize_t:\n"
"memoryview(ranges).cast('n')) and the conflicting base ranges (a list). remaining is what is\n"
"left of the budget. None when a text holds a grapheme cluster\n"
"this code does not model, or when base and one side are below U+0300 and the other side is not\n"
"(the two diffs would tokenise base differently).");

/* The changes of one side as diffing.change_ranges finds them, into a new flat array; 0, -2 memory. */
static int side_ranges(Diff *d, const Side *base, const Side *side, long long *remaining, long long steps,
                       Py_ssize_t **ranges, Py_ssize_t *count)
{
    if (side->n == base->n && !memcmp(side->s, base->s, base->n * sizeof(uint32_t))) {
        *count = 0;
        return 0;
    }
    if (*remaining <= 0) { /* nothing left: one replacement, charged nothing */
        *ranges = big_alloc(4 * sizeof(Py_ssize_t));
        if (!*ranges)
            return -2;
        (*ranges)[0] = 0;
        (*ranges)[1] = base->n;
        (*ranges)[2] = 0;
        (*ranges)[3] = side->n;
        *count = 1;
        return 0;
    }
    d->old = *base;
    d->new = *side;
    if (run_diff(d, *remaining * steps))
        return -2;
    *remaining -= d->spent / steps + 4 * d->nhunks;
    *ranges = big_alloc((d->nhunks ? 4 * d->nhunks : 1) * sizeof(Py_ssize_t));
    if (!*ranges)
        return -2;
    memcpy(*ranges, d->hunks, 4 * d->nhunks * sizeof(Py_ssize_t));
    *count = d->nhunks;
    return 0;
}

static PyObject *textcore_merge_texts(PyObject *module, PyObject *args)
{
    PyObject *given[3];
    long long remaining, steps;
    if (!PyArg_ParseTuple(args, "UUULL", &given[0], &given[1], &given[2], &remaining, &steps))
        return NULL;
    if (steps <= 0) {
        PyErr_SetString(PyExc_ValueError, "steps must be positive");
        return NULL;
    }
    Side sides[3];
    memset(sides, 0, sizeof sides);
    uint32_t tops[3];
    int status = 0;
    for (int k = 0; k < 3 && !status; k++)
        if (!(sides[k].s = code_points(given[k], &sides[k].n, &tops[k])))
            status = -2;
    int plain = tops[0] < PLAIN_BELOW && tops[1] < PLAIN_BELOW;
    if (!status && plain != (tops[0] < PLAIN_BELOW && tops[2] < PLAIN_BELOW))
        status = -1;
    Diff d;
    Runs token_runs = {0};
    memset(&d, 0, sizeof d);
    d.token_runs = &token_runs;
    d.plain = plain;
    Py_ssize_t *ranges[2] = {NULL, NULL}, counts[2] = {0, 0}, *conflicts = NULL, nconflicts = 0;
    Edit *edits = NULL;
    Buffer merged = {0};
    Py_BEGIN_ALLOW_THREADS
    for (int k = 0; k < 3 && !status; k++)
        status = prepare(&sides[k], plain, 1);
    if (!status) {
        Side *all[3] = {&sides[0], &sides[1], &sides[2]};
        status = index_sides(&d, all, 3);
    }
    for (int side = 0; side < 2 && !status; side++)
        status = side_ranges(&d, &sides[0], &sides[1 + side], &remaining, steps, &ranges[side], &counts[side]);
    if (!status) {
        Py_ssize_t count = 0;
        edits = big_alloc((counts[0] + counts[1] + 1) * sizeof(Edit));
        conflicts = big_alloc(2 * (counts[0] + counts[1] + 1) * sizeof(Py_ssize_t));
        if (!edits || !conflicts)
            status = -2;
        for (int side = 0; side < 2 && !status; side++)
            for (Py_ssize_t h = 0; h < counts[side]; h++) {
                const Py_ssize_t *range = ranges[side] + 4 * h;
                edits[count++] = (Edit){range[0], range[1], range[2], range[3], side};
            }
        const uint32_t *texts[2] = {sides[1].s, sides[2].s};
        if (!status && group_edits(sides[0].s, sides[0].n, texts, edits, count, &merged, conflicts, &nconflicts))
            status = -2;
    }
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (status == -1) {
        result = Py_None;
        Py_INCREF(result);
    } else if (status) {
        PyErr_NoMemory();
    } else if (!nconflicts) {
        PyObject *text = merged_text(&merged);
        result = text ? Py_BuildValue("(NOOOL)", text, Py_None, Py_None, Py_None, remaining) : NULL;
    } else {
        /* The ranges as bytes of Py_ssize_t (memoryview(...).cast("n") reads them): most conflicts
           are settled by the first few, so the thousands of others never become Python ints. */
        PyObject *mine = PyBytes_FromStringAndSize((const char *)ranges[0], 4 * counts[0] * sizeof(Py_ssize_t));
        PyObject *theirs = PyBytes_FromStringAndSize((const char *)ranges[1], 4 * counts[1] * sizeof(Py_ssize_t));
        PyObject *contested = int_list(conflicts, 2 * nconflicts);
        if (mine && theirs && contested)
            result = Py_BuildValue("(ONNNL)", Py_None, mine, theirs, contested, remaining);
        else {
            Py_XDECREF(mine);
            Py_XDECREF(theirs);
            Py_XDECREF(contested);
        }
    }
    for (int k = 0; k < 3; k++)
        release_side(&sides[k]);
    release_work(&d);
    big_free(ranges[0]);
    big_free(ranges[1]);
    big_free(edits);
    big_free(conflicts);
    big_free(merged.text);
    return result;
}

static PyMethodDef methods[] = {
    {"diff", textcore_diff, METH_VARARGS, diff_doc},
    {"tokenize", textcore_tokenize, METH_VARARGS, tokenize_doc},
    {"merge", textcore_merge, METH_VARARGS, merge_doc},
    {"merge_texts", textcore_merge_texts, METH_VARARGS, merge_texts_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_textcore",
    "Tokenising and aligning long clause texts in one compiled pass (see _textcore.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__textcore(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddStringConstant(m, "TABLES", TEXTCORE_TABLES) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
