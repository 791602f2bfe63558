/* vdisk-io's stress command (stress.c). */
#ifndef VDISK_IO_STRESS_H
#define VDISK_IO_STRESS_H

#include <vdisk/vdisk.h>

/* stress SEED COUNT: COUNT random operations (0: until killed). */
int vdisk_io_stress(vdisk_image *img, int argc, char **argv);

#endif
