"""The test guest: one 512-byte boot sector, assembled here from its bytes,
that proves on the serial port (COM1) that it ran and read its disk.

What it does, in 16-bit real mode (SeaBIOS loads it at 0000:7C00, from a
hard disk's sector 0 or as an El Torito no-emulation boot image):

    print "VDISK-GUEST token=" TOKEN " disk="
    read one sector (LBA `read_lba`) of the boot drive (DL) with int 13h
      AH=42h (extended read: 512-byte sectors on a disk, 2048 on a CD)
      into 0000:8000
    print `show_len` bytes of it from `show_off` ('.' for what is not
      printable ASCII)
    if `write_drive`: write that same sector to LBA `write_lba` of
      `write_drive` (int 13h AH=43h) and print " wrote=ok"
    print "\\r\\nVDISK-DONE\\r\\n" and halt
    on a failed int 13h: print "\\r\\nVDISK-ERROR\\r\\n" and halt

So a test knows the guest read its disk when the bytes it put at that
sector come back on the console, and that the guest wrote its second disk
when qemu-img finds that sector there.
"""
import struct

SECTOR = 512
BASE = 0x7C00            # where the BIOS loads the sector
BUFFER = 0x8000          # int 13h transfer buffer (a CD sector is 2048 bytes)

# Data offsets in the sector (fixed, so that the code below can name them).
DRIVE, SHOW_OFF, SHOW_LEN, WRITE_DRIVE = 0x100, 0x102, 0x104, 0x106
READ_DAP, WRITE_DAP = 0x110, 0x120
BANNER, TOKEN, DISK, WROTE, DONE, ERROR = 0x130, 0x148, 0x168, 0x170, 0x180, 0x190
TOKEN_MAX = DISK - TOKEN - 1

DONE_TEXT = b"\r\nVDISK-DONE\r\n"
ERROR_TEXT = b"\r\nVDISK-ERROR\r\n"


def _abs(offset):
    """The little-endian address of a data field once loaded."""
    return struct.pack("<H", BASE + offset)


def _code():
    """The program's machine code, instruction by instruction (GNU as
    syntax in the comments; jumps and calls are relative)."""
    return b"".join([
        bytes([0xFA]),                             # 00 cli
        bytes([0x31, 0xC0]),                       # 01 xor %ax,%ax
        bytes([0x8E, 0xD8]),                       # 03 mov %ax,%ds
        bytes([0x8E, 0xC0]),                       # 05 mov %ax,%es
        bytes([0x8E, 0xD0]),                       # 07 mov %ax,%ss
        bytes([0xBC, 0x00, 0x7C]),                 # 09 mov $0x7c00,%sp
        bytes([0xFB]),                             # 0c sti
        bytes([0xFC]),                             # 0d cld
        bytes([0x88, 0x16]) + _abs(DRIVE),         # 0e mov %dl,DRIVE (BIOS boot drive)
        bytes([0xBE]) + _abs(BANNER),              # 12 mov $BANNER,%si
        bytes([0xE8, 0x5E, 0x00]),                 # 15 call puts
        bytes([0xBE]) + _abs(TOKEN),               # 18 mov $TOKEN,%si
        bytes([0xE8, 0x58, 0x00]),                 # 1b call puts
        bytes([0xBE]) + _abs(DISK),                # 1e mov $DISK,%si
        bytes([0xE8, 0x52, 0x00]),                 # 21 call puts
        bytes([0xBE]) + _abs(READ_DAP),            # 24 mov $READ_DAP,%si
        bytes([0xB4, 0x42]),                       # 27 mov $0x42,%ah (extended read)
        bytes([0x8A, 0x16]) + _abs(DRIVE),         # 29 mov DRIVE,%dl
        bytes([0xCD, 0x13]),                       # 2d int $0x13
        bytes([0x72, 0x3D]),                       # 2f jc err
        bytes([0x8B, 0x36]) + _abs(SHOW_OFF),      # 31 mov SHOW_OFF,%si
        bytes([0x81, 0xC6, 0x00, 0x80]),           # 35 add $BUFFER,%si
        bytes([0x8B, 0x0E]) + _abs(SHOW_LEN),      # 39 mov SHOW_LEN,%cx
        bytes([0xAC]),                             # 3d show: lodsb
        bytes([0x3C, 0x20]),                       # 3e cmp $0x20,%al
        bytes([0x72, 0x04]),                       # 40 jb dot
        bytes([0x3C, 0x7E]),                       # 42 cmp $0x7e,%al
        bytes([0x76, 0x02]),                       # 44 jbe out
        bytes([0xB0, 0x2E]),                       # 46 dot: mov $'.',%al
        bytes([0xE8, 0x36, 0x00]),                 # 48 out: call putc
        bytes([0xE2, 0xF0]),                       # 4b loop show
        bytes([0x8A, 0x16]) + _abs(WRITE_DRIVE),   # 4d mov WRITE_DRIVE,%dl
        bytes([0x84, 0xD2]),                       # 51 test %dl,%dl
        bytes([0x74, 0x10]),                       # 53 jz done
        bytes([0xBE]) + _abs(WRITE_DAP),           # 55 mov $WRITE_DAP,%si
        bytes([0xB8, 0x00, 0x43]),                 # 58 mov $0x4300,%ax (extended write)
        bytes([0xCD, 0x13]),                       # 5b int $0x13
        bytes([0x72, 0x0F]),                       # 5d jc err
        bytes([0xBE]) + _abs(WROTE),               # 5f mov $WROTE,%si
        bytes([0xE8, 0x11, 0x00]),                 # 62 call puts
        bytes([0xBE]) + _abs(DONE),                # 65 done: mov $DONE,%si
        bytes([0xE8, 0x0B, 0x00]),                 # 68 call puts
        bytes([0xF4]),                             # 6b halt: hlt
        bytes([0xEB, 0xFD]),                       # 6c jmp halt
        bytes([0xBE]) + _abs(ERROR),               # 6e err: mov $ERROR,%si
        bytes([0xE8, 0x02, 0x00]),                 # 71 call puts
        bytes([0xEB, 0xF5]),                       # 74 jmp halt
        bytes([0xAC]),                             # 76 puts: lodsb
        bytes([0x84, 0xC0]),                       # 77 test %al,%al
        bytes([0x74, 0x05]),                       # 79 jz ret
        bytes([0xE8, 0x03, 0x00]),                 # 7b call putc
        bytes([0xEB, 0xF6]),                       # 7e jmp puts
        bytes([0xC3]),                             # 80 ret
        bytes([0x89, 0xC3]),                       # 81 putc: mov %ax,%bx
        bytes([0xBA, 0xFD, 0x03]),                 # 83 mov $0x3fd,%dx (line status)
        bytes([0xEC]),                             # 86 in %dx,%al
        bytes([0xA8, 0x20]),                       # 87 test $0x20,%al (transmitter empty)
        bytes([0x74, 0xFB]),                       # 89 jz 86
        bytes([0x89, 0xD8]),                       # 8b mov %bx,%ax
        bytes([0xBA, 0xF8, 0x03]),                 # 8d mov $0x3f8,%dx (COM1 data)
        bytes([0xEE]),                             # 90 out %al,%dx
        bytes([0xC3]),                             # 91 ret
    ])


def _dap(lba, buffer):
    """An int 13h disk address packet: one sector at lba, to or from 0:buffer."""
    return struct.pack("<BBHHHQ", 16, 0, 1, buffer, 0, lba)


def boot_sector(token, read_lba=1, show_off=0, show_len=32, write_drive=0, write_lba=0):
    """The 512-byte sector (ending 55 AA).  token: ASCII printed as is;
    write_drive: BIOS drive number to write to (0x81: the second disk), 0
    for none."""
    token = token.encode() if isinstance(token, str) else token
    if len(token) > TOKEN_MAX or not all(0x20 <= b < 0x7F for b in token):
        raise ValueError(f"token must be at most {TOKEN_MAX} printable ASCII bytes")
    s = bytearray(SECTOR)
    code = _code()
    assert len(code) == 0x92
    s[:len(code)] = code

    def put(offset, data):
        s[offset:offset + len(data)] = data

    put(SHOW_OFF, struct.pack("<HH", show_off, show_len))
    s[WRITE_DRIVE] = write_drive
    put(READ_DAP, _dap(read_lba, BUFFER))
    put(WRITE_DAP, _dap(write_lba, BUFFER))
    put(BANNER, b"VDISK-GUEST token=\0")
    put(TOKEN, token + b"\0")
    put(DISK, b" disk=\0")
    put(WROTE, b" wrote=ok\0")
    put(DONE, DONE_TEXT + b"\0")
    put(ERROR, ERROR_TEXT + b"\0")
    s[510:512] = b"\x55\xAA"
    return bytes(s)
