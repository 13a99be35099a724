#ifndef CLINUX_H
#define CLINUX_H
// Linux headers Swift's Glibc module leaves out (epoll, for MockServer's ConnectionPoller; signalfd,
// for qmp-mockctl watch's signals), and the pseudo-terminal calls glibc declares only under
// _XOPEN_SOURCE (for the `pty` chardev), and `O_DIRECT`, which it declares only under _GNU_SOURCE.
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <stddef.h>

/// Opens a pseudo-terminal master (non-blocking, close-on-exec, not the controlling terminal),
/// grants and unlocks its slave, and writes the slave's path into `name`. Returns the master's
/// descriptor, or -1 with errno set.
int clinux_open_pty(char *name, size_t size);

/// Creates a memfd (close-on-exec) as QEMU's `qemu_memfd_create` does: `hugetlb` asks for huge pages
/// (of 2^`huge_shift` bytes when not 0), `allow_sealing` for sealing. Returns the descriptor, or -1
/// with errno set.
int clinux_memfd_create(const char *name, int hugetlb, unsigned int huge_shift, int allow_sealing);

/// This architecture's `O_DIRECT` (0x4000 on x86-64, 0x10000 on arm64).
int clinux_o_direct(void);
#endif
