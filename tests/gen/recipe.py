"""One conformance-matrix recipe: how to break exactly one VM-entry check of
vmx/entry_checks.def, starting from the valid baseline VMCS of the guest
VMX library (tests/guests/lib/vmx_vmcs.h). The format is described in
tests/gen/README.md; tests/gen/entry_recipes.py holds one R per row.
"""


class RecipeError(ValueError):
    """A recipe that cannot be turned into a test case."""


def _c_list(name, value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) and s.strip() for s in value):
        raise RecipeError("%s must be a list of non-empty C strings" % name)
    return [s.strip() for s in value]


class R:
    """brk: C statements that break the rule (run after setup).
    setup: C statements that make the rule apply; setup alone must still
        give a valid entry (the "after fixing" half of the case runs it).
    requires: C boolean expressions on the model (capability MSRs); the
        case is a SKIP naming the first that does not hold.
    guest: which baseline, 64 (IA-32e mode guest) or 32 (32-bit protected
        mode with paging).
    host: 64, the library's 64-bit host (vmx_try_launch), or 32: the
        case's host-state area is that of a 32-bit host (vmx_host32_state,
        before setup) and VMLAUNCH runs outside IA-32e mode
        (vmx_try_launch_host32, tests/guests/lib/vmx_host32.h); a 32-bit
        host needs guest=32 (26.2.4: no IA-32e mode guest outside IA-32e
        mode).
    qual: the exit qualification to expect instead of the table row's (a
        number or a C expression), e.g. the 1-based index of the failing
        MSR-load entry for exit reason 34.
    note: why the recipe is shaped this way (copied into the generated
        file as a comment)."""

    def __init__(self, brk, setup=(), requires=(), guest=64, qual=None, note="", host=64):
        self.brk = _c_list("brk", brk)
        if not self.brk:
            raise RecipeError("brk must not be empty")
        self.setup = _c_list("setup", list(setup)) if setup else []
        self.requires = _c_list("requires", list(requires)) if requires else []
        if guest not in (64, 32):
            raise RecipeError("guest must be 64 or 32, not %r" % (guest,))
        self.guest = guest
        if host not in (64, 32):
            raise RecipeError("host must be 64 or 32, not %r" % (host,))
        if host == 32 and guest != 32:
            raise RecipeError("a 32-bit host enters only a 32-bit guest (guest=32)")
        self.host = host
        if qual is not None and not isinstance(qual, (int, str)):
            raise RecipeError("qual must be a number or a C expression")
        self.qual = qual
        if not isinstance(note, str):
            raise RecipeError("note must be a string")
        self.note = note
