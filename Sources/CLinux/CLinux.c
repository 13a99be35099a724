// Headers only (include/CLinux.h); SwiftPM needs a source file in a C target.
#include "CLinux.h"
