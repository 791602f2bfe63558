/* Helpers shared by the unit tests of qcow2's in-place provisioning
 * (test-qcow2-inflate.c, test-qcow2-sparsify.c): the L2 type of a guest
 * offset, the guest bytes, and the two verdicts every move is held to
 * (guest view unchanged, vdisk_check clean).  Header-only: the tests are
 * built one source each (meson.build).  Include after <cmocka.h>. */
#ifndef VDISK_TEST_QCOW2_PROVISION_FIXTURE_H
#define VDISK_TEST_QCOW2_PROVISION_FIXTURE_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

static enum qcow2_sc_type
type_at(vdisk_image *img, uint64_t off)
{
    qcow2_state *s = img->priv;
    uint64_t e, b;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_l2_lookup(s, off >> s->cluster_bits, &e, &b, NULL), 0);
    pthread_mutex_unlock(&s->lock);
    return qcow2_sc_type(s, e, b, 0);
}

static uint8_t *
contents(vdisk_image *img)
{
    uint8_t *b = malloc(vdisk_get_size(img));
    assert_int_equal(vdisk_pread(img, b, vdisk_get_size(img), 0, NULL), 0);
    return b;
}

static void
assert_same(vdisk_image *img, const uint8_t *before)
{
    uint8_t *now = contents(img);
    assert_memory_equal(now, before, vdisk_get_size(img));
    free(now);
}

#endif
