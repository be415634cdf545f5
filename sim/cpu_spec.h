/* `-cpu MODEL[,+FLAG|-FLAG]...`: a model row copied and changed by VMX
 * feature flags (vmx/features.def), as QEMU's -cpu takes them. The machine
 * keeps the result as its own model; the rows of cpu/models.def stay const. */
#ifndef SIM_CPU_SPEC_H
#define SIM_CPU_SPEC_H

#include <stddef.h>
#include <stdio.h>

#include "cpu/model.h"

/* Called once per feature offered that vtxsim models only partly: one line
 * "NAME: WHAT IS NOT MODELLED", no newline. */
typedef void (*cpu_spec_warn_fn)(void *ctx, const char *line);

/* Fill *out from spec ("haswell,+vmx-tertiary,-vmx-ept-ad"): the model row,
 * then each flag from left to right. 0, or -1 with one line in err naming
 * the bad part (unknown model or flag, no sign, a flag undone by a later
 * one, a VMX flag on a model without VMX). warn may be NULL. */
int cpu_spec_parse(const char *spec, struct cpu_model *out, cpu_spec_warn_fn warn, void *warn_ctx, char *err,
		   size_t errlen);

/* The flags for `-cpu help`. */
void cpu_spec_print_flags(FILE *out);

#endif
