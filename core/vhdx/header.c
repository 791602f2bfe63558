/* libvdisk — the VHDX file type identifier and the two headers.
 *
 * Header layout (spec 2.2.2): signature "head", CRC-32C over the whole
 * 4 KiB, sequence number, FileWriteGuid, DataWriteGuid, LogGuid, log
 * version, version (1), log length, log offset, reserved.  A header is
 * valid when signature, checksum and version check out; the current one is
 * the valid one with the higher sequence number.  Updates never go through
 * the log (the header locates it): the non-current header is overwritten
 * with the next sequence number and flushed, which makes it current; done
 * twice, both headers carry the new values.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vhdx.h"

#define H_SIGNATURE 0
#define H_CHECKSUM 4
#define H_SEQ 8
#define H_FILE_WRITE 16
#define H_DATA_WRITE 32
#define H_LOG_GUID 48
#define H_LOG_VERSION 64
#define H_VERSION 66
#define H_LOG_LENGTH 68
#define H_LOG_OFFSET 72

bool
vhdx_header_parse(const uint8_t *buf, vhdx_header *h)
{
    if (memcmp(buf + H_SIGNATURE, "head", 4) != 0 ||
        vhdx_le32(buf + H_CHECKSUM) != vhdx_checksum(buf, VHDX_HEADER_SIZE, H_CHECKSUM))
        return false;
    memset(h, 0, sizeof(*h));
    h->seq = vhdx_le64(buf + H_SEQ);
    memcpy(&h->file_write, buf + H_FILE_WRITE, 16);
    memcpy(&h->data_write, buf + H_DATA_WRITE, 16);
    memcpy(&h->log_guid, buf + H_LOG_GUID, 16);
    h->log_version = vhdx_le16(buf + H_LOG_VERSION);
    h->version = vhdx_le16(buf + H_VERSION);
    h->log_length = vhdx_le32(buf + H_LOG_LENGTH);
    h->log_offset = vhdx_le64(buf + H_LOG_OFFSET);
    return h->version == 1;
}

void
vhdx_header_build(const vhdx_header *h, uint8_t *buf)
{
    memset(buf, 0, VHDX_HEADER_SIZE);
    memcpy(buf + H_SIGNATURE, "head", 4);
    vhdx_put64(buf + H_SEQ, h->seq);
    memcpy(buf + H_FILE_WRITE, &h->file_write, 16);
    memcpy(buf + H_DATA_WRITE, &h->data_write, 16);
    memcpy(buf + H_LOG_GUID, &h->log_guid, 16);
    vhdx_put16(buf + H_LOG_VERSION, h->log_version);
    vhdx_put16(buf + H_VERSION, h->version);
    vhdx_put32(buf + H_LOG_LENGTH, h->log_length);
    vhdx_put64(buf + H_LOG_OFFSET, h->log_offset);
    vhdx_checksum_store(buf, VHDX_HEADER_SIZE, H_CHECKSUM);
}

int
vhdx_headers_load(vhdx_state *s, vdisk_error *err)
{
    uint8_t sig[8];
    int r = vdisk_file_pread(s->file, sig, sizeof(sig), 0, err);
    if (r < 0)
        return r;
    if (memcmp(sig, "vhdxfile", 8) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: not a VHDX image (no \"vhdxfile\" signature)", s->name);
    static const uint32_t at[2] = { VHDX_HEADER1_OFFSET, VHDX_HEADER2_OFFSET };
    uint8_t buf[2][VHDX_HEADER_SIZE];
    for (int i = 0; i < 2; i++) {
        r = vdisk_file_pread(s->file, buf[i], VHDX_HEADER_SIZE, at[i], err);
        if (r < 0)
            return r;
        s->hdr_valid[i] = vhdx_header_parse(buf[i], &s->hdr[i]);
    }
    if (!s->hdr_valid[0] && !s->hdr_valid[1])
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: No valid VHDX header found (both headers fail their "
                                    "signature, checksum or version check)", s->name);
    if (s->hdr_valid[0] && s->hdr_valid[1] && s->hdr[0].seq == s->hdr[1].seq &&
        memcmp(buf[0], buf[1], VHDX_HEADER_SIZE) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: the two VHDX headers differ but have the same sequence "
                                    "number %" PRIu64 ": neither is current", s->name, s->hdr[0].seq);
    if (!s->hdr_valid[1])
        s->cur = 0;
    else if (!s->hdr_valid[0])
        s->cur = 1;
    else
        s->cur = s->hdr[1].seq > s->hdr[0].seq ? 1 : 0;
    return 0;
}

/* One step of the update procedure: write the non-current header. */
static int
update_once(vhdx_state *s, const vhdx_header *want, vdisk_error *err)
{
    int target = !s->cur;
    vhdx_header h = *want;
    h.seq = s->hdr[s->cur].seq + 1;
    uint8_t buf[VHDX_HEADER_SIZE];
    vhdx_header_build(&h, buf);
    uint32_t at = target ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET;
    int r = vdisk_file_pwrite(s->file, buf, sizeof(buf), at, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        return r;
    s->hdr[target] = h;
    s->hdr_valid[target] = true;
    s->cur = target;
    return 0;
}

int
vhdx_headers_update(vhdx_state *s, bool data_write, const vhdx_guid *log_guid, vdisk_error *err)
{
    vhdx_header want = s->hdr[s->cur];
    int r = 0;
    if (!s->file_guid_done)
        r = vhdx_guid_generate(&want.file_write);
    if (r == 0 && data_write)
        r = vhdx_guid_generate(&want.data_write);
    if (r < 0)
        return vdisk_error_set(err, -r, "%s: no random bytes for a new VHDX GUID", s->name);
    if (log_guid)
        want.log_guid = *log_guid;
    for (int i = 0; i < 2 && r == 0; i++)
        r = update_once(s, &want, err);
    if (r < 0)
        return r;
    s->file_guid_done = true;
    if (data_write)
        s->data_guid_done = true;
    return 0;
}
