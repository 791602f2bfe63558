/* Unit tests for plugin/xml-encryption.c: a volume's <encryption>. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xml-internal.h"

static int
parse(const char *text, vdisk_vol_encryption_def *enc, vdisk_error *err)
{
    vdisk_xml_doc d;
    int r = vdisk_xml_doc_read(&d, text, strlen(text), "e.xml", "encryption", err);

    if (r == 0) {
        r = vdisk_xml_encryption_parse(&d, d.root, enc, err);
        vdisk_xml_doc_close(&d);
    }
    return r;
}

static char *
format(const vdisk_vol_encryption_def *enc)
{
    vdisk_xml_buf b = {0};
    vdisk_error err = {0};
    char *out;

    vdisk_xml_encryption_format(&b, enc);
    assert_int_equal(vdisk_xml_buf_finish(&b, &out, &err), 0);
    return out;
}

/* libvirt's vol-luks-cipher.xml, which its formatter prints unchanged */
static void
test_luks_cipher_round_trip(void **state)
{
    const char *text =
        "<encryption format='luks'>\n"
        "  <secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/>\n"
        "  <cipher name='serpent' size='256' mode='cbc' hash='sha256'/>\n"
        "  <ivgen name='plain64' hash='sha256'/>\n"
        "</encryption>\n";
    vdisk_vol_encryption_def enc;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(parse(text, &enc, &err), 0);
    assert_int_equal(enc.format, VDISK_VOL_ENCRYPTION_LUKS);
    assert_true(enc.has_secret_uuid);
    assert_int_equal(enc.secret_uuid[0], 0xf5);
    assert_int_equal(enc.secret_uuid[15], 0x72);
    assert_string_equal(enc.cipher_name, "serpent");
    assert_int_equal(enc.cipher_size, 256);
    assert_string_equal(enc.ivgen_hash, "sha256");
    out = format(&enc);
    assert_string_equal(out, text);
    free(out);
    vdisk_vol_encryption_def_clear(&enc);
}

static void
test_usage_secret_and_qcow(void **state)
{
    vdisk_vol_encryption_def enc;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(parse("<encryption format='luks'><secret type='passphrase' usage='vol &amp; co'/>"
                           "</encryption>", &enc, &err), 0);
    assert_false(enc.has_secret_uuid);
    assert_string_equal(enc.secret_usage, "vol & co");
    out = format(&enc);
    assert_string_equal(out, "<encryption format='luks'>\n"
                             "  <secret type='passphrase' usage='vol &amp; co'/>\n"
                             "</encryption>\n");
    free(out);
    vdisk_vol_encryption_def_clear(&enc);
    assert_int_equal(parse("<encryption format='qcow'><cipher name='aes' size='128'/></encryption>",
                           &enc, &err), 0);
    assert_int_equal(enc.format, VDISK_VOL_ENCRYPTION_QCOW);
    assert_null(enc.cipher_name);          /* ignored for qcow, as libvirt */
    vdisk_vol_encryption_def_clear(&enc);
    assert_int_equal(parse("<encryption format='default'/>", &enc, &err), 0);
    assert_int_equal(enc.format, VDISK_VOL_ENCRYPTION_QCOW);
}

static void
test_refused(void **state)
{
    static const struct { const char *text; int r; const char *msg; } bad[] = {
        { "<encryption/>", -EINVAL, "missing the format attribute" },
        { "<encryption format='luks2'/>", -ENOTSUP, "'luks2' is not supported" },
        { "<encryption format='rot13'/>", -EINVAL, "unknown encryption format 'rot13'" },
        { "<encryption format='luks' engine='librbd'/>", -ENOTSUP, "engine 'librbd'" },
        { "<encryption format='luks'><secret type='volume' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/></encryption>",
          -EINVAL, "'passphrase'" },
        { "<encryption format='luks'><secret type='passphrase'/></encryption>", -EINVAL, "uuid or by usage" },
        { "<encryption format='luks'><secret type='passphrase' uuid='nope'/></encryption>", -EINVAL, "malformed uuid" },
        { "<encryption format='luks'><cipher size='256'/></encryption>", -EINVAL, "missing the name" },
        { "<encryption format='luks'><cipher name='aes' size='-1'/></encryption>", -EINVAL, "key size" },
        { "<encryption format='luks'><ivgen name='plain64'/></encryption>", -EINVAL, "needs a <cipher>" },
    };
    vdisk_vol_encryption_def enc;
    vdisk_error err = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i].text, &enc, &err), bad[i].r);
        if (!strstr(err.message, bad[i].msg))
            fail_msg("%s: got '%s'", bad[i].text, err.message);
        assert_null(enc.cipher_name);
        assert_null(enc.secret_usage);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_luks_cipher_round_trip),
        cmocka_unit_test(test_usage_secret_and_qcow),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
