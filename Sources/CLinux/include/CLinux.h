#ifndef CLINUX_H
#define CLINUX_H
// Linux headers Swift's Glibc module leaves out (epoll, for MockServer's ConnectionPoller).
#include <sys/epoll.h>
#endif
