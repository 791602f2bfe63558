/* Unit tests for plugin/registry.c: names, layout, atomic files, locks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/registry.h>

#include "fixture.h"
#include "pool-fixture.h"

static void
test_name_check(void **state)
{
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(vdisk_storage_name_check("volume name", "disk-1.qcow2", NULL), 0);
    assert_int_equal(vdisk_storage_name_check("volume name", "a..b", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", "..", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", ".", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", "a/b", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", "a\nb", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", "a\x7f", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", "", NULL), -EINVAL);
    assert_int_equal(vdisk_storage_name_check("volume name", longname, NULL), -EINVAL);
    longname[255] = '\0';
    assert_int_equal(vdisk_storage_name_check("volume name", longname, NULL), 0);
    vdisk_error err = { 0 };
    vdisk_storage_name_check("volume name", "x/y", &err);
    assert_non_null(strstr(err.message, "'x/y'"));
}

static void
test_default_dir_follows_env(void **state)
{
    char *dir = NULL;
    setenv("VDISK_CONFIG_DIR", "/some/where", 1);
    assert_int_equal(vdisk_registry_default_dir(&dir, NULL), 0);
    assert_string_equal(dir, "/some/where");
    free(dir);
    unsetenv("VDISK_CONFIG_DIR");
    if (geteuid() != 0) {
        setenv("XDG_CONFIG_HOME", "/xdg", 1);
        assert_int_equal(vdisk_registry_default_dir(&dir, NULL), 0);
        assert_string_equal(dir, "/xdg/vdisk/storage");
        free(dir);
    } else {
        assert_int_equal(vdisk_registry_default_dir(&dir, NULL), 0);
        assert_string_equal(dir, "/etc/vdisk/storage");
        free(dir);
    }
}

static void
test_layout_and_modes(void **state)
{
    vdisk_registry *reg = pf_registry();
    struct stat st;
    assert_int_equal(stat(unit_path(0, "reg/pools"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(stat(unit_path(0, "reg/secrets"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(unit_path(0, "reg/lock"), &st), 0);
    vdisk_registry_close(reg);
}

static void
test_write_read_list_remove(void **state)
{
    vdisk_registry *reg = pf_registry();
    assert_int_equal(vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, "b.xml", "<b/>", 4, 0644, NULL), 0);
    assert_int_equal(vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, "a.xml", "<a/>", 4, 0644, NULL), 0);
    assert_int_equal(vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, "a.xml", "<a2/>", 5, 0644, NULL), 0);
    assert_int_equal(vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, "a.state", "x", 1, 0644, NULL), 0);
    char **names;
    size_t n;
    assert_int_equal(vdisk_registry_list(reg, VDISK_REGISTRY_POOLS, ".xml", &names, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[1], "b");
    vdisk_registry_names_free(names, n);
    char *data;
    size_t len;
    assert_int_equal(vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, "a.xml", &data, &len, NULL), 0);
    assert_string_equal(data, "<a2/>");
    free(data);
    assert_int_equal(vdisk_registry_remove(reg, VDISK_REGISTRY_POOLS, "a.xml", NULL), 0);
    assert_int_equal(vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, "a.xml", &data, &len, NULL), -ENOENT);
    assert_int_equal(vdisk_registry_remove(reg, VDISK_REGISTRY_POOLS, "a.xml", NULL), 0);
    /* No temporary file is left behind by the replacements. */
    assert_int_equal(vdisk_registry_list(reg, VDISK_REGISTRY_POOLS, "", &names, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        assert_null(strstr(names[i], ".tmp"));
    vdisk_registry_names_free(names, n);
    vdisk_registry_close(reg);
}

/* A temporary file a crash left is removed by the next write to its
 * subdirectory; one a writer still holds (open file description lock)
 * is not. */
static void
test_stale_temporary_reaped(void **state)
{
    vdisk_registry *reg = pf_registry();
    const char *stale = unit_path(0, "reg/pools/.tmp-0000stale");
    const char *held_path = unit_path(1, "reg/pools/.tmp-00000held");
    int fd = open(stale, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
    int held = open(held_path, O_RDWR | O_CREAT | O_EXCL, 0644);
    assert_true(held >= 0);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    assert_int_equal(fcntl(held, F_OFD_SETLK, &fl), 0);
    assert_int_equal(vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, "a.xml", "<a/>", 4, 0644, NULL), 0);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(held_path, F_OK), 0);
    close(held);
    vdisk_registry_close(reg);
}

static void
test_secret_mode_applied(void **state)
{
    vdisk_registry *reg = pf_registry();
    assert_int_equal(vdisk_registry_write(reg, VDISK_REGISTRY_SECRETS, "s.value", "k", 1, 0600, NULL), 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "reg/secrets/s.value"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    vdisk_registry_close(reg);
}

static void
test_symlink_in_registry_not_followed(void **state)
{
    vdisk_registry *reg = pf_registry();
    unit_write_file(unit_path(0, "outside"), 4, "evil", 4, 0);
    assert_int_equal(symlink(unit_path(0, "outside"), unit_path(1, "reg/pools/x.xml")), 0);
    char *data;
    assert_true(vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, "x.xml", &data, NULL, NULL) < 0);
    vdisk_registry_close(reg);
}

/* Child: can another process take the registry lock right now? */
static int
child_try_lock(void)
{
    int fd = open(unit_path(0, "reg/lock"), O_RDWR);
    if (fd < 0)
        return 2;
    return flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : (errno == EWOULDBLOCK ? 1 : 3);
}

static int
try_lock_in_child(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_try_lock());
    int status;
    waitpid(pid, &status, 0);
    return WEXITSTATUS(status);
}

static void
test_exclusive_lock_excludes_other_process(void **state)
{
    vdisk_registry *reg = pf_registry();
    assert_int_equal(vdisk_registry_lock(reg, true, NULL), 0);
    assert_int_equal(try_lock_in_child(), 1);       /* held: the other process would block */
    vdisk_registry_unlock(reg);
    assert_int_equal(try_lock_in_child(), 0);
    assert_int_equal(vdisk_registry_lock(reg, false, NULL), 0);
    assert_int_equal(try_lock_in_child(), 1);       /* shared still excludes a writer */
    vdisk_registry_unlock(reg);
    vdisk_registry_close(reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_check),
        cmocka_unit_test(test_default_dir_follows_env),
        cmocka_unit_test_setup_teardown(test_layout_and_modes, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_write_read_list_remove, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporary_reaped, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_secret_mode_applied, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_in_registry_not_followed, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_exclusive_lock_excludes_other_process, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
