/*
 * arena.c - bump allocator; see arena.h.
 *
 *   head -> [block: next | size | used | bytes...] -> [older block] -> NULL
 *
 * A request larger than the default block size gets a block of its own.
 */
#include "util/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

struct kp_arena_block {
	struct kp_arena_block *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char bytes[];
};

void kp_arena_init(kp_arena *a)
{
	a->head = NULL;
	a->total = 0;
}

void kp_arena_free(kp_arena *a)
{
	struct kp_arena_block *b = a->head, *next;

	while (b) {
		next = b->next;
		free(b);
		b = next;
	}
	kp_arena_init(a);
}

void *kp_arena_alloc(kp_arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct kp_arena_block *b = a->head;
	size_t size;
	void *p;

	if (n > SIZE_MAX - sizeof *b - align)
		return NULL; /* rounding up, or the block header, would overflow */
	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (!b || b->size - b->used < n) {
		size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = malloc(sizeof *b + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->bytes + b->used;
	b->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

char *kp_arena_strndup(kp_arena *a, const char *s, size_t n)
{
	char *p = n < SIZE_MAX ? kp_arena_alloc(a, n + 1) : NULL;

	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *kp_arena_memdup(kp_arena *a, const void *src, size_t n)
{
	void *p = kp_arena_alloc(a, n);

	if (p && n)
		memcpy(p, src, n);
	return p;
}
