/* A program outside vdisk's tree, built only with
 * `pkg-config --cflags --libs vdisk`: opens an image and prints what
 * tests/packaging/pkgconfig-consumer.sh compares with qemu-img's view.
 *
 *   open-image IMAGE OFFSET
 * prints "format FORMAT size BYTES byte-at-OFFSET 0xNN" */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/vdisk.h>

int main(int argc, char **argv)
{
    vdisk_image *img = NULL;
    vdisk_error err = { 0 };
    unsigned char byte;

    if (argc != 3) {
        fprintf(stderr, "usage: open-image IMAGE OFFSET\n");
        return 2;
    }
    if (vdisk_open(argv[1], NULL, &img, &err) < 0 ||
        vdisk_pread(img, &byte, 1, strtoull(argv[2], NULL, 0), &err) < 0) {
        fprintf(stderr, "open-image: %s\n", err.message);
        vdisk_close(img, NULL);
        return 1;
    }
    printf("format %s size %" PRIu64 " byte-at-%s 0x%02x\n",
           vdisk_format_name(vdisk_get_format(img)), vdisk_get_size(img), argv[2], byte);
    return vdisk_close(img, &err) < 0 ? 1 : 0;
}
