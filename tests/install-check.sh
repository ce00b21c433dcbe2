#!/bin/sh
# install-check.sh BUILD_DIR — checks the install contract: `make install PREFIX=...` gives a
# header, libraries, a pkg-config file, nsemd and nsem, and the system server's systemd unit
# running the installed nsemd; a program built with pkg-config and run from elsewhere, with no
# setting at all, starts the installed server and works.
set -eu
build=$1
tmp=$(mktemp -d /tmp/nsem-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
# A plain build: the sanitizer runtime cannot load into an ordinary program.
make --no-print-directory -s -j2 O="$build/install-check" PREFIX="$prefix" SYSTEMDUNITDIR="$prefix/lib/systemd/system" \
    SANITIZE=0 install >/dev/null
for f in include/nsem.h lib/libnsem.so lib/libnsem.a lib/pkgconfig/nsem.pc bin/nsemd bin/nsem share/man/man1/nsem.1 \
         lib/systemd/system/nsemd.service; do
    [ -e "$prefix/$f" ] || { echo "install-check: $f was not installed" >&2; exit 1; }
done
grep -qx "ExecStart=$prefix/bin/nsemd --system --foreground" "$prefix/lib/systemd/system/nsemd.service" ||
    { echo "install-check: nsemd.service does not run $prefix/bin/nsemd --system --foreground" >&2; exit 1; }
cat > "$tmp/prog.c" <<'C'
#include <nsem.h>
#include <stdio.h>
int main(void)
{
    HANDLE h = CreateSemaphoreA(NULL, 1, 1, "install-check");
    if (!h || WaitForSingleObject(h, 0) != WAIT_OBJECT_0 || !ReleaseSemaphore(h, 1, NULL)) {
        fprintf(stderr, "install-check: error %u\n", GetLastError());
        return 1;
    }
    return 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
for link in shared static; do
    if [ $link = shared ]; then
        cc -o "$tmp/prog-$link" "$tmp/prog.c" $(pkg-config --cflags --libs nsem) -Wl,-rpath,"$prefix/lib"
    else
        cc -o "$tmp/prog-$link" "$tmp/prog.c" $(pkg-config --cflags nsem) "$prefix/lib/libnsem.a" -pthread
    fi
    mkdir -m 700 "$tmp/run-$link"
    # No NSEMD and no NSEM_SERVER: the program finds its server by itself.
    (cd / && env -u NSEMD -u NSEM_SERVER XDG_RUNTIME_DIR="$tmp/run-$link" NSEMD_GRACE_MS=200 "$tmp/prog-$link") ||
        { echo "install-check: the $link program failed" >&2; exit 1; }
done
"$prefix/bin/nsem" --help >/dev/null
echo "install-check: ok (shared and static programs found the installed nsemd)"
