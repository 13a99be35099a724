#define _GNU_SOURCE
#include "CLinux.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int clinux_open_pty(char *name, size_t size) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, size) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int clinux_memfd_create(const char *name, int hugetlb, unsigned int huge_shift, int allow_sealing) {
    unsigned int flags = MFD_CLOEXEC;
    if (hugetlb) {
        flags |= MFD_HUGETLB;
        if (huge_shift) flags |= huge_shift << 26; // MFD_HUGE_SHIFT (linux/memfd.h)
    }
    if (allow_sealing) flags |= MFD_ALLOW_SEALING;
    return memfd_create(name, flags);
}

int clinux_o_direct(void) { return O_DIRECT; }
