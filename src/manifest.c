/* In-memory manifest (see include/ctxd/manifest.h). Strings live in one
 * growing arena, addressed by offset, so a large manifest is a few big
 * allocations rather than one per entry. */
#include "ctxd/manifest.h"

#include <stdlib.h>
#include <string.h>

#include "ctxd/buf.h"

struct item {
	struct ctxd_entry e; /* pointers fixed up on access */
	size_t path_off, link_off, data_off;
	bool has_link, has_data, hashed;
	struct ctxd_hash hash;
	struct ctxd_hash_key key;
	size_t dup_of;
};

struct ctxd_manifest {
	struct item *items;
	size_t n, cap;
	struct ctxd_buf arena;
	struct ctxd_manifest_totals totals;
	struct ctxd_entry view; /* what ctxd_manifest_entry hands out */
};

struct ctxd_manifest *ctxd_manifest_create(void)
{
	return calloc(1, sizeof(struct ctxd_manifest));
}

void ctxd_manifest_destroy(struct ctxd_manifest *m)
{
	if (!m)
		return;
	free(m->items);
	ctxd_buf_free(&m->arena);
	free(m);
}

static size_t stash(struct ctxd_buf *a, const void *p, size_t len)
{
	size_t off = a->len;

	ctxd_buf_append(a, p, len);
	ctxd_buf_putc(a, '\0');
	return off;
}

int ctxd_manifest_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	struct ctxd_manifest *m = ud;
	struct item *it;

	if (e->excluded)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct item *items = realloc(m->items, cap * sizeof *items);

		if (!items) {
			ctxd_error_set(err, "out of memory");
			return -1;
		}
		m->items = items;
		m->cap = cap;
	}
	it = &m->items[m->n];
	memset(it, 0, sizeof *it);
	it->e = *e;
	it->e.dirfd = -1;
	it->e.name = NULL;
	it->dup_of = CTXD_MANIFEST_NONE;
	it->path_off = stash(&m->arena, e->path, e->path_len);
	if (e->link) {
		it->has_link = true;
		it->link_off = stash(&m->arena, e->link, e->link_len);
	}
	if (e->data) {
		it->has_data = true;
		it->data_off = stash(&m->arena, e->data, (size_t)e->size);
	}
	if (m->arena.oom) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	m->n++;
	m->totals.entries++;
	if (e->type == CTXD_ENTRY_FILE) {
		m->totals.files++;
		m->totals.bytes += e->size;
	}
	return 0;
}

size_t ctxd_manifest_count(const struct ctxd_manifest *m)
{
	return m->n;
}

const struct ctxd_entry *ctxd_manifest_entry(const struct ctxd_manifest *m, size_t i)
{
	struct ctxd_manifest *mm = (struct ctxd_manifest *)m;
	const struct item *it = &m->items[i];

	mm->view = it->e;
	mm->view.path = m->arena.data + it->path_off;
	mm->view.link = it->has_link ? m->arena.data + it->link_off : NULL;
	mm->view.data = it->has_data ? m->arena.data + it->data_off : NULL;
	return &mm->view;
}

const struct ctxd_manifest_totals *ctxd_manifest_totals(const struct ctxd_manifest *m)
{
	return &m->totals;
}

const struct ctxd_hash *ctxd_manifest_hash(const struct ctxd_manifest *m, size_t i,
					   const struct ctxd_hash_key **key)
{
	const struct item *it = &m->items[i];

	if (!it->hashed)
		return NULL;
	if (key)
		*key = &it->key;
	return &it->hash;
}

void ctxd_manifest_set_hash(struct ctxd_manifest *m, size_t i, const struct ctxd_hash *h,
			    const struct ctxd_hash_key *key)
{
	m->items[i].hashed = true;
	m->items[i].hash = *h;
	m->items[i].key = *key;
}

size_t ctxd_manifest_duplicate_of(const struct ctxd_manifest *m, size_t i)
{
	return m->items[i].dup_of;
}

void ctxd_manifest_set_duplicate_of(struct ctxd_manifest *m, size_t i, size_t of)
{
	m->items[i].dup_of = of;
}

int ctxd_manifest_pack(const struct ctxd_manifest *m, struct ctxd_pack *pk, struct ctxd_error *err)
{
	for (size_t i = 0; i < m->n; i++)
		if (ctxd_pack_add(pk, ctxd_manifest_entry(m, i), err) < 0)
			return -1;
	return 0;
}
