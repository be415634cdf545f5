# Freestanding guest kernels: the guest tests (tests/guests/*.c), the demo
# (examples/hello) and the benchmark guest (bench/loop.c). Included by the
# top-level Makefile, which provides B; SAN=1 changes nothing here (guests
# are never sanitized), only where they land.
#
# Each kernel is linked at 1 MiB as ELF64 (NAME.elf64) and converted to the
# ELF32 container multiboot loaders accept (NAME.elf): QEMU's -kernel
# rejects ELF64 multiboot images.

GUEST_B := $(B)/guests
GUEST_CC ?= gcc
GUEST_OBJCOPY ?= objcopy
GUEST_CFLAGS := -m64 -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie -mcmodel=small \
	-mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-fno-tree-loop-distribute-patterns -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Itests/guests/lib -I. -MMD -MP
# Guests whose C code is compiled for SSE2 (they enable CR4.OSFXSR first).
GUEST_SSE_TESTS := sse
GUEST_SSE_CFLAGS := $(filter-out -mno-sse -mno-sse2 -O2,$(GUEST_CFLAGS)) -O3 -msse2 -mfpmath=sse \
	-fno-math-errno
GUEST_LDFLAGS := -m64 -nostdlib -static -no-pie -Wl,-T,tests/guests/link.ld \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

GUEST_LIB_SRCS := $(wildcard tests/guests/lib/*.c tests/guests/lib/*.S)
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:%=$(GUEST_B)/obj/%.o)
GUEST_TESTS := $(basename $(notdir $(wildcard tests/guests/*.c)))
GUEST_EXAMPLES := hello minivisor
GUEST_NAMES := $(GUEST_TESTS) $(GUEST_EXAMPLES:%=examples/%) bench/loop bench/vmexit
GUEST_ELFS := $(GUEST_NAMES:%=$(GUEST_B)/%.elf) $(GUEST_NAMES:%=$(GUEST_B)/%.elf64)

guests: $(GUEST_ELFS)

$(GUEST_B)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_SSE_TESTS:%=$(GUEST_B)/obj/tests/guests/%.c.o): GUEST_CFLAGS := $(GUEST_SSE_CFLAGS)

$(GUEST_B)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

# guest_kernel(OUT, OBJS): OUT.elf64 linked from OBJS and the library,
# OUT.elf its ELF32 copy.
define guest_kernel
$(1).elf64: $(2) $(GUEST_LIB_OBJS) tests/guests/link.ld
	@mkdir -p $$(dir $$@)
	$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $(2) $(GUEST_LIB_OBJS)
$(1).elf: $(1).elf64
	$$(GUEST_OBJCOPY) -O elf32-i386 $$< $$@
endef

$(foreach t,$(GUEST_TESTS),$(eval $(call guest_kernel,$(GUEST_B)/$(t),$(GUEST_B)/obj/tests/guests/$(t).c.o)))
$(foreach e,$(GUEST_EXAMPLES),$(eval $(call guest_kernel,$(GUEST_B)/examples/$(e),$(patsubst %,$(GUEST_B)/obj/%.o,$(wildcard examples/$(e)/*.c examples/$(e)/*.S)))))
$(eval $(call guest_kernel,$(GUEST_B)/bench/loop,$(GUEST_B)/obj/bench/loop.c.o))
$(eval $(call guest_kernel,$(GUEST_B)/bench/vmexit,$(GUEST_B)/obj/bench/vmexit.c.o))

GUEST_OBJS := $(GUEST_LIB_OBJS) $(GUEST_TESTS:%=$(GUEST_B)/obj/tests/guests/%.c.o) \
	$(patsubst %,$(GUEST_B)/obj/%.o,$(wildcard $(GUEST_EXAMPLES:%=examples/%/*.c))) \
	$(GUEST_B)/obj/bench/loop.c.o $(GUEST_B)/obj/bench/vmexit.c.o
-include $(GUEST_OBJS:.o=.d)

# The teaching guests (examples/lessons, docs/tutorial.md): each lesson
# NN-name.c is its own kernel, build/guests/examples/lessons/NN-name.elf,
# linked with the lessons' kit (lesson.c, lesson_entry.S) and the library.
LESSON_KIT := $(GUEST_B)/obj/examples/lessons/lesson.c.o $(GUEST_B)/obj/examples/lessons/lesson_entry.S.o
LESSONS := $(basename $(notdir $(filter-out examples/lessons/lesson.c,$(wildcard examples/lessons/*.c))))
guests: $(LESSONS:%=$(GUEST_B)/examples/lessons/%.elf) $(LESSONS:%=$(GUEST_B)/examples/lessons/%.elf64)
$(foreach l,$(LESSONS),$(eval $(call guest_kernel,$(GUEST_B)/examples/lessons/$(l),$(GUEST_B)/obj/examples/lessons/$(l).c.o $(LESSON_KIT))))
-include $(patsubst %,$(GUEST_B)/obj/examples/lessons/%.c.d,$(LESSONS) lesson) $(GUEST_B)/obj/examples/lessons/lesson_entry.S.d
