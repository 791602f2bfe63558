/* PLACEHOLDER until the command-line tool lands. */
#include <stdio.h>
#include <vdisk/vdisk.h>

int
main(void)
{
    printf("vdisk-virsh %s\n", VDISK_VERSION_STRING);
    return 0;
}
