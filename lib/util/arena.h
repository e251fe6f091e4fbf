/*
 * arena.h - a bump allocator for objects that die together, such as the
 * decoded form of one request or response. Everything allocated from an
 * arena is freed at once by kp_arena_free; nothing is freed singly.
 */
#ifndef KP_UTIL_ARENA_H
#define KP_UTIL_ARENA_H

#include <stddef.h>

struct kp_arena_block;

typedef struct kp_arena {
	struct kp_arena_block *head; /* newest block first */
	size_t total;                /* bytes handed out, for accounting */
} kp_arena;

/* kp_arena_init - make `a` empty (no allocation). */
void kp_arena_init(kp_arena *a);
/* kp_arena_free - free every allocation of `a`; `a` is empty and reusable after. */
void kp_arena_free(kp_arena *a);
/*
 * kp_arena_alloc - `n` zeroed bytes aligned for any type, owned by `a`.
 * Returns NULL when memory runs out (n == 0 returns a valid pointer).
 */
void *kp_arena_alloc(kp_arena *a, size_t n);
/*
 * kp_arena_strndup - copy `n` bytes at `s` into `a` with a terminating NUL.
 * Returns NULL when memory runs out.
 */
char *kp_arena_strndup(kp_arena *a, const char *s, size_t n);
/* kp_arena_memdup - copy `n` bytes into `a`; NULL when memory runs out. */
void *kp_arena_memdup(kp_arena *a, const void *p, size_t n);

#endif
