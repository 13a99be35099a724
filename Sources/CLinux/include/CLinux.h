#ifndef CLINUX_H
#define CLINUX_H
// Linux headers Swift's Glibc module leaves out (epoll, for MockServer's ConnectionPoller; signalfd,
// for qmp-mockctl watch's signals).
#include <sys/epoll.h>
#include <sys/signalfd.h>
#endif
