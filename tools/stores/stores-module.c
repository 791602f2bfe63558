/* vdisk-virsh-stores.so — the module's mark: the vdisk version it was built
 * with.  vdisk-virsh checks it before calling a command of the module
 * (common/store-module.c), since the module calls back into helpers of the
 * executable built beside it, whose signatures no ABI promise covers. */
#include <vdisk/vdisk.h>

extern const char vv_stores_module_version[];
const char vv_stores_module_version[] = VDISK_VERSION_STRING;
