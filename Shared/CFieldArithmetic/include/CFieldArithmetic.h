#ifndef AGRITRACE_CFIELDARITHMETIC_H
#define AGRITRACE_CFIELDARITHMETIC_H

// Field arithmetic the Swift compiler cannot express: the BLS12-381 base-field Montgomery
// multiplication with MULX/ADCX/ADOX (x86-64 only) and the one-time CPU check that picks it.

#include "fp384_x86_64.h"

/// 1 if Fp multiplication may use MULX/ADCX/ADOX: the CPU reports BMI2 and ADX (CPUID leaf 7,
/// EBX bits 8 and 19) and AGRITRACE_FP_PORTABLE is unset, empty or "0". Set once by a
/// constructor before main; always 0 off x86-64. Read through agritrace_fp_adx_enabled().
extern int agritrace_fp_adx_flag;

/// Whether Fp multiplication uses the MULX/ADX code: a plain load, cheap enough to branch on
/// in every multiplication (the branch always goes the same way).
static inline int agritrace_fp_adx_enabled(void) { return agritrace_fp_adx_flag; }

/// Whether this CPU has BMI2 and ADX, regardless of AGRITRACE_FP_PORTABLE (for tests).
int agritrace_fp_cpu_has_adx(void);

#endif  // AGRITRACE_CFIELDARITHMETIC_H
