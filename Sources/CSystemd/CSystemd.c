#include "CSystemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];

/* Typed from the real prototypes: a signature that drifts from the header fails to compile. */
static __typeof__(sd_notify) *p_notify;
static __typeof__(sd_listen_fds_with_names) *p_listen_fds_with_names;
static __typeof__(sd_is_socket_unix) *p_is_socket_unix;
static __typeof__(sd_watchdog_enabled) *p_watchdog_enabled;

static void *symbol(void *handle, const char *name) {
    void *address = dlsym(handle, name);
    if (!address && !load_error[0]) {
        const char *message = dlerror();
        snprintf(load_error, sizeof load_error, "%s", message ? message : name);
    }
    return address;
}

static void load(void) {
    void *handle = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *message = dlerror();
        snprintf(load_error, sizeof load_error, "%s", message ? message : "dlopen(libsystemd.so.0) failed");
        return;
    }
    p_notify = symbol(handle, "sd_notify");
    p_listen_fds_with_names = symbol(handle, "sd_listen_fds_with_names");
    p_is_socket_unix = symbol(handle, "sd_is_socket_unix");
    p_watchdog_enabled = symbol(handle, "sd_watchdog_enabled");
}

const char *csd_load_error(void) {
    pthread_once(&load_once, load);
    return load_error[0] ? load_error : NULL;
}

int csd_notify(int unset_environment, const char *state) {
    pthread_once(&load_once, load);
    return p_notify ? p_notify(unset_environment, state) : -ENOSYS;
}

int csd_listen_fds_with_names(int unset_environment, char ***names) {
    pthread_once(&load_once, load);
    return p_listen_fds_with_names ? p_listen_fds_with_names(unset_environment, names) : -ENOSYS;
}

int csd_is_socket_unix(int fd, int type, int listening, const char *path, size_t length) {
    pthread_once(&load_once, load);
    return p_is_socket_unix ? p_is_socket_unix(fd, type, listening, path, length) : -ENOSYS;
}

int csd_watchdog_enabled(int unset_environment, uint64_t *usec) {
    pthread_once(&load_once, load);
    return p_watchdog_enabled ? p_watchdog_enabled(unset_environment, usec) : -ENOSYS;
}

int csd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }
