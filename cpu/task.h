/* Hardware task switching (SDM vol. 3A chapter 8 "Task Management"; vol. 2
 * JMP, CALL, INT n, IRET "TASK-GATE" / "TASK-STATE-SEGMENT" / "TASK-RETURN").
 * Not available in IA-32e mode: callers raise #GP there first.
 *
 * Each entry point returns EXEC_OK, or EXEC_FAULT with c->exc set: before
 * the commit point nothing changed and the fault belongs to the old task;
 * after it c->exc.new_task is set and the fault is delivered in the new task.
 */
#ifndef CPU_TASK_H
#define CPU_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* JMP/CALL far whose selector names a TSS descriptor or a task gate (d is
 * that descriptor). c->next_rip is the EIP saved in the old task; len the
 * instruction's length.
 *
 * In VMX non-root operation every task switch is a VM exit (SDM vol. 3C
 * 25.4.2) once the checks on the gate and the new TSS descriptor (its
 * type, P, S and limit) have passed, before any TSS is read or written:
 * the entry points then return EXEC_OK with the host running. */
enum exec_status task_far(struct cpu *c, uint16_t sel, uint64_t d, bool call, unsigned len);

/* An event whose IDT entry is a task gate (gate = the gate descriptor). ext
 * is the EXT bit for error codes; ret_ip the EIP saved in the old task;
 * set_rf sets RF in the saved EFLAGS image (fault-class exceptions); an
 * error code, when has_error, is pushed on the new task's stack. */
struct task_event {
	uint32_t ext;
	uint64_t ret_ip;
	bool set_rf, has_error;
	uint32_t error;
};
enum exec_status task_gate_event(struct cpu *c, uint64_t gate, const struct task_event *ev);

/* IRET (len bytes) with EFLAGS.NT = 1 outside IA-32e mode: back to the
 * previous task. */
enum exec_status task_return(struct cpu *c, unsigned len);

#endif
