/* vdisk-virsh — PNG output through libpng (see png-write.h).  libpng reports
 * errors by longjmp to the setjmp point here; nothing it allocated leaks
 * past png_destroy_write_struct. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "png-write.h"

/* Separate from the caller's locals: they are not volatile across longjmp. */
static int
write_rows(png_structp png, png_infop info, FILE *f, const unsigned char *rgb, unsigned w,
           unsigned h)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < h; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * w * 3));
    png_write_end(png, NULL);
    return 0;
}

int
vv_png_write(const char *path, const unsigned char *rgb, unsigned w, unsigned h)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        vv_error("%s: cannot create the picture: %s", path, strerror(errno));
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int r = png && info ? write_rows(png, info, f, rgb, w, h) : -1;
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0)
        r = -1;
    if (r < 0) {
        vv_error("%s: cannot write the PNG picture", path);
        unlink(path);
    }
    return r;
}
