/* vdisk-virsh — what pool-define-as and pool-create-as share: virsh's
 * arguments of a pool built from the command line (pool-define.c). */
#ifndef VV_POOL_ARGS_H
#define VV_POOL_ARGS_H

#include <vdisk/storage-def.h>

#include "virsh-args.h"

/* The argument table's rows, in virsh's order (the source-* words and
 * the target may be given as bare words, "-" for none). */
#define VV_POOL_AS_ARGS \
    VV_REQ("name"), VV_REQ("type"), VV_POS("source-host"), VV_POS("source-path"), VV_POS("source-dev"), \
    VV_POS("source-name"), VV_POS("target"), VV_VAL("source-format"), VV_FLAG("print-xml"), \
    VV_VAL("zeroing"), VV_VAL("overcommit"), VV_VAL("auth-type"), VV_VAL("auth-username"), \
    VV_VAL("secret-uuid"), VV_VAL("secret-usage")

/* Fill def from those arguments; prints the error. */
int vv_pool_def_from_args(vv_arg *args, size_t n, vdisk_pool_def *def);

#endif
