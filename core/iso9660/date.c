/* libvdisk — ISO 9660 timestamps.
 *
 * Directory records carry a 7-byte binary date (ECMA-119 9.1.5: years
 * since 1900, month, day, hour, minute, second, offset from GMT in 15
 * minute steps); volume descriptors a 17-byte digit string (8.4.26.1).
 * Both are converted to and from seconds since the epoch in UTC without
 * the C library's time zone state.
 */
#include <stdio.h>
#include <string.h>

#include "iso9660.h"

int64_t
iso_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Days -> year, month, day (the inverse of iso_days_from_civil). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t
to_epoch(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s, int8_t gmtoff)
{
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return VDISK_ISO_TIME_UNSET;
    int64_t t = iso_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    /* The offset says how far local time is ahead of GMT. */
    if (gmtoff >= -48 && gmtoff <= 52)
        t -= (int64_t)gmtoff * 15 * 60;
    return t;
}

int64_t
iso_date7_parse(const uint8_t p[7])
{
    static const uint8_t zero[7];
    if (memcmp(p, zero, 6) == 0)
        return VDISK_ISO_TIME_UNSET;
    return to_epoch(1900 + p[0], p[1], p[2], p[3], p[4], p[5], (int8_t)p[6]);
}

void
iso_date7_format(uint8_t p[7], int64_t t)
{
    memset(p, 0, 7);
    if (t == VDISK_ISO_TIME_UNSET || t < 0)
        t = 0;
    int64_t y;
    unsigned m, d;
    int64_t days = t / 86400, rem = t % 86400;
    civil_from_days(days, &y, &m, &d);
    if (y < 1900 || y > 2155)
        return;
    p[0] = (uint8_t)(y - 1900);
    p[1] = (uint8_t)m;
    p[2] = (uint8_t)d;
    p[3] = (uint8_t)(rem / 3600);
    p[4] = (uint8_t)(rem / 60 % 60);
    p[5] = (uint8_t)(rem % 60);
    p[6] = 0;   /* GMT */
}

/* n decimal digits at p; -1 if any is not a digit. */
static int64_t
digits(const uint8_t *p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int64_t
iso_date17_parse(const uint8_t p[17])
{
    int64_t y = digits(p, 4), mo = digits(p + 4, 2), d = digits(p + 6, 2);
    int64_t h = digits(p + 8, 2), mi = digits(p + 10, 2), s = digits(p + 12, 2);
    if (y <= 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0)
        return VDISK_ISO_TIME_UNSET;
    return to_epoch(y, (unsigned)mo, (unsigned)d, (unsigned)h, (unsigned)mi, (unsigned)s, (int8_t)p[16]);
}

void
iso_date17_format(uint8_t p[17], int64_t t)
{
    if (t == VDISK_ISO_TIME_UNSET) {
        memset(p, '0', 16);
        p[16] = 0;
        return;
    }
    if (t < 0)
        t = 0;
    int64_t y;
    unsigned m, d;
    int64_t rem = t % 86400;
    civil_from_days(t / 86400, &y, &m, &d);
    if (y > 9999)
        y = 9999;
    char buf[20];
    snprintf(buf, sizeof(buf), "%04d%02u%02u%02d%02d%02d00", (int)y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
    memcpy(p, buf, 16);
    p[16] = 0;  /* GMT */
}
