// The one-time choice between the MULX/ADX and the portable Fp multiplication.
#include "CFieldArithmetic.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

int agritrace_fp_adx_flag = 0;

int agritrace_fp_cpu_has_adx(void) {
#if defined(__x86_64__)
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, NULL) < 7) return 0;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned int bmi2 = 1u << 8, adx = 1u << 19;
  return (ebx & (bmi2 | adx)) == (bmi2 | adx);
#else
  return 0;
#endif
}

__attribute__((constructor)) static void agritrace_fp_choose(void) {
  const char *portable = getenv("AGRITRACE_FP_PORTABLE");
  int forced = portable != NULL && portable[0] != '\0' && strcmp(portable, "0") != 0;
  agritrace_fp_adx_flag = !forced && agritrace_fp_cpu_has_adx();
}
