/* -cpu MODEL,+FLAG,-FLAG (sim/cpu_spec.h). */
#include "sim/cpu_spec.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "vmx/features.h"

#define SPEC_NAME_MAX 64

static int spec_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int spec_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The element of spec from p up to the next comma, into buf. */
static const char *spec_element(const char *p, char *buf, size_t len, size_t *n)
{
	const char *e = strchr(p, ',');

	*n = e ? (size_t)(e - p) : strlen(p);
	if (*n < len) {
		memcpy(buf, p, *n);
		buf[*n] = 0;
	}
	return e ? e + 1 : NULL;
}

/* One "+name" or "-name"; offered[] records what was asked for. */
static int spec_flag(struct cpu_model *m, const char *flag, bool *offered, char *err, size_t errlen)
{
	if (flag[0] != '+' && flag[0] != '-')
		return spec_fail(err, errlen, "feature '%s' needs a sign: +%s offers it, -%s withholds it", flag, flag,
				 flag);
	enum vmx_feature_id f = vmx_feature_find(flag + 1);
	if (f == VMX_FEAT_NONE)
		return spec_fail(err, errlen, "unknown feature '%s'; -cpu help lists the flags", flag + 1);
	if (flag[0] == '-') {
		vmx_feature_withhold(m, f);
		offered[f] = false;
		return 0;
	}
	if (!vmx_feature_offer(m, f))
		return spec_fail(err, errlen, "model '%s' has no VMX: it takes no VMX feature ('%s')", m->name, flag);
	offered[f] = true;
	return 0;
}

/* A flag offered and then taken away by a later one ("+vmx-spp,-vmx-ept"). */
static int spec_check_offered(const struct cpu_model *m, const bool *offered, char *err, size_t errlen)
{
	for (int f = 0; f < VMX_FEAT_COUNT; f++)
		if (offered[f] && !vmx_feature_present(m, (enum vmx_feature_id)f))
			return spec_fail(err, errlen, "'+%s' is undone by a later flag that withholds it or what it needs",
					 vmx_features[f].name);
	return 0;
}

static void spec_warn(const struct cpu_model *base, const struct cpu_model *m, cpu_spec_warn_fn warn, void *ctx)
{
	char line[256];

	for (int f = 0; warn && f < VMX_FEAT_COUNT; f++) {
		const struct vmx_feature *x = &vmx_features[f];
		if (x->behaviour == VMXF_MODELLED || vmx_feature_present(base, (enum vmx_feature_id)f) ||
		    !vmx_feature_present(m, (enum vmx_feature_id)f))
			continue;
		snprintf(line, sizeof(line), "%s: %s", x->name, x->warning);
		warn(ctx, line);
	}
}

int cpu_spec_parse(const char *spec, struct cpu_model *out, cpu_spec_warn_fn warn, void *warn_ctx, char *err,
		   size_t errlen)
{
	char name[SPEC_NAME_MAX];
	bool offered[VMX_FEAT_COUNT] = { false };
	size_t n;
	const char *p = spec_element(spec, name, sizeof(name), &n);
	const struct cpu_model *base = n < sizeof(name) ? cpu_model_find(name) : NULL;

	if (!base)
		return spec_fail(err, errlen, "unknown CPU model '%.*s'; -cpu help lists the models", (int)n, spec);
	*out = *base;
	while (p) {
		p = spec_element(p, name, sizeof(name), &n);
		if (n == 0)
			return spec_fail(err, errlen, "empty feature flag; give +FLAG or -FLAG after each comma");
		if (n >= sizeof(name))
			return spec_fail(err, errlen, "feature flag too long; -cpu help lists the flags");
		if (spec_flag(out, name, offered, err, errlen))
			return -1;
	}
	if (spec_check_offered(out, offered, err, errlen))
		return -1;
	spec_warn(base, out, warn, warn_ctx);
	return 0;
}

static const char *const behaviour_text[] = {
	[VMXF_MODELLED] = "",
	[VMXF_CHECKS_ONLY] = " [VM-entry checks only]",
	[VMXF_PARTIAL] = " [partly modelled]",
};

void cpu_spec_print_flags(FILE *out)
{
	fprintf(out, "\nFeature flags (-cpu MODEL,+FLAG,-FLAG,...: + offers, - withholds; offering brings\n"
		"what a feature needs, withholding takes away what needs it):\n");
	for (int f = 0; f < VMX_FEAT_COUNT; f++) {
		const struct vmx_feature *x = &vmx_features[f];
		fprintf(out, "  %-32s %s%s\n", x->name, x->description, behaviour_text[x->behaviour]);
	}
}
