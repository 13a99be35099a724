#ifndef CSYSTEMD_H
#define CSYSTEMD_H

#include <stddef.h>
#include <stdint.h>

/* libsystemd's sd-daemon API, loaded with dlopen("libsystemd.so.0") on first use instead of being
 * linked: the library and what it pulls in (libgcrypt, lzma, zstd, lz4, libcap, libgpg-error) cost
 * about 0.9 ms of start-up, paid only when a service manager is there to talk to. Each function
 * has the signature and the return values of its sd_* namesake (the pointers are typed from
 * <systemd/sd-daemon.h>, so a drifting signature fails to compile); when the library cannot be
 * loaded they return -ENOSYS and csd_load_error() says why. Thread-safe (pthread_once). */

/* NULL once libsystemd is loaded, else dlopen's/dlsym's message (loads first if needed). */
const char *csd_load_error(void);

int csd_notify(int unset_environment, const char *state);
int csd_listen_fds_with_names(int unset_environment, char ***names);
int csd_is_socket_unix(int fd, int type, int listening, const char *path, size_t length);
int csd_watchdog_enabled(int unset_environment, uint64_t *usec);

/* SD_LISTEN_FDS_START */
int csd_listen_fds_start(void);

#endif
