# Cross-build for arm64 (aarch64) Debian from an x86-64 Debian host: Debian's cross compiler
# (crossbuild-essential-arm64) and the arm64 -dev packages installed beside the host's through
# multiarch (dpkg --add-architecture arm64), so headers are shared and the libraries are in
# /usr/lib/aarch64-linux-gnu. `make cross-arm64` installs both and configures with this file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkgconf's per-triplet name reads only the arm64 .pc files (/usr/lib/aarch64-linux-gnu/pkgconfig).
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config)
# Programs (gzip, python3) are the host's; libraries and headers are searched for arm64.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# The arm64 test binaries run under Debian's user-mode emulator; ctest prefixes every test
# executable with it, and the CLI tests reach the tool through the wrapper it configures.
# The arm64 loader and libraries are the multiarch ones under /, so no -L sysroot is needed.
find_program(CM_QEMU_AARCH64 qemu-aarch64)
if(CM_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CM_QEMU_AARCH64})
endif()
