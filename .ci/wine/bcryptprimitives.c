/*
 * A stand-in for Windows' bcryptprimitives.dll, for running sockdiff's
 * Windows build under Wine 8.0 in CI (.ci/run builds it with mingw-w64).
 *
 * Why: Rust's standard library (1.78 and later) gets its random numbers
 * from ProcessPrng in bcryptprimitives.dll, which Windows 10 and later
 * have and Wine 8.0 lacks. Without it the loader refuses every Rust
 * program before main (STATUS_DLL_NOT_FOUND, exit code 53, silent under
 * WINEDEBUG=-all). This file exports ProcessPrng and fills the buffer with
 * advapi32's RtlGenRandom (exported as SystemFunction036), which Wine has.
 * Nothing here is used on real Windows.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a 32-bit length: hand the buffer over in pieces. */
    while (length > 0)
    {
        ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, piece))
            return FALSE;
        data += piece;
        length -= piece;
    }
    return TRUE;
}
