/* VM-entry basic checks (SDM vol. 3C 26.1). */
#include "vmx/entry.h"

bool chk_BASIC_CPL(struct entry_ctx *e)
{
	e->actual = e->c->cpl;
	e->expected = 0;
	return e->c->cpl == 0;
}
